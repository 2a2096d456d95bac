//go:build arm64

package epoll

import "unsafe"

// Event is one readiness report, laid out exactly as the kernel's
// struct epoll_event so Wait can hand the kernel a []Event directly.
//
// Outside x86 the struct is naturally aligned: 4 bytes of events, 4 bytes
// of padding, then the 8-byte data at offset 8, 16 bytes in all. The padding
// is spelled out because 32-bit Go aligns uint64 to 4, not 8.
type Event struct {
	events uint32
	_      uint32
	data   uint64 // epoll_data, in native byte order
}

const (
	eventSize  = 16
	dataOffset = 8
)

// Fail to compile if the layout drifts from the kernel's.
var (
	_ [unsafe.Sizeof(Event{}) - eventSize]byte
	_ [eventSize - unsafe.Sizeof(Event{})]byte
	_ [unsafe.Offsetof(Event{}.data) - dataOffset]byte
	_ [dataOffset - unsafe.Offsetof(Event{}.data)]byte
)

func makeEvent(events uint32, t Token) Event { return Event{events: events, data: uint64(t)} }

// Token returns the token the file descriptor was registered with.
func (e Event) Token() Token { return Token(e.data) }
