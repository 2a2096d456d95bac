//go:build !amd64 && !386

package epoll

import "unsafe"

// Event is one readiness report, laid out exactly as the kernel's
// struct epoll_event so Wait can hand the kernel a []Event directly.
//
// Outside x86 the struct is naturally aligned: 4 bytes of events, 4 bytes
// of padding, then the 8-byte data at offset 8, 16 bytes in all. The padding
// is spelled out because 32-bit Go (arm, mips, mipsle) aligns uint64 to 4,
// not 8, and would otherwise put data at offset 4.
//
// data is a native-order uint64 on big-endian arches too (s390x, ppc64,
// mips, mips64): the kernel copies epoll_data as opaque 8 bytes, so whatever
// uint64 goes in comes back unchanged. Only code that mixes the C union's
// members (u64 in, fd out) would see the halves swapped there.
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
