//go:build amd64

package epoll

import (
	"encoding/binary"
	"unsafe"
)

// Event is one readiness report, laid out exactly as the kernel's
// struct epoll_event so Wait can hand the kernel a []Event directly.
//
// On x86-64 the kernel declares the struct packed (12 bytes, data at offset 4)
// so it matches the 32-bit layout. Go has no packed attribute, and a uint64
// field would be aligned to 8, so data is kept as raw little-endian bytes.
type Event struct {
	events uint32
	data   [8]byte // epoll_data, unaligned
}

const (
	eventSize  = 12
	dataOffset = 4
)

// Fail to compile if the layout drifts from the kernel's.
var (
	_ [unsafe.Sizeof(Event{}) - eventSize]byte
	_ [eventSize - unsafe.Sizeof(Event{})]byte
	_ [unsafe.Offsetof(Event{}.data) - dataOffset]byte
	_ [dataOffset - unsafe.Offsetof(Event{}.data)]byte
)

func makeEvent(events uint32, t Token) Event {
	e := Event{events: events}
	binary.LittleEndian.PutUint64(e.data[:], uint64(t))
	return e
}

// Token returns the token the file descriptor was registered with.
func (e Event) Token() Token { return Token(binary.LittleEndian.Uint64(e.data[:])) }
