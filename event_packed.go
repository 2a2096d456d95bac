//go:build amd64 || 386

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
//
// 386 shares this file: its struct is not packed, but the i386 C ABI aligns
// __u64 to 4, which gives the same 12 bytes with data at offset 4. Go's 386
// port also aligns uint64 to 4, so a plain data uint64 would fit there too;
// the byte array gives the same layout without relying on that rule, and
// keeps one file for both x86 ABIs.
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
//
// It reads data as two 4-byte halves, not as one 8-byte word: a loop that
// ranges over events by value copies each 12-byte Event with an 8-byte
// and a 4-byte store, and an 8-byte load at offset 4 of that copy spans
// both, which the CPU cannot forward from its store buffer; it waits for
// the stores to reach the cache instead. Each half lies within one store.
// BenchmarkRangeTokens: 1.24 ns an event against 7.41 with Go 1.26. (Go
// 1.27 loads straight from the slice in that loop: 0.61 ns against 0.41.)
func (e Event) Token() Token {
	lo, hi := binary.LittleEndian.Uint32(e.data[:4]), binary.LittleEndian.Uint32(e.data[4:])
	return Token(uint64(hi)<<32 | uint64(lo))
}
