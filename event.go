package epoll

// What an Event says: the kernel's bits and their readings. Event's own
// layout, which differs by arch, and its token are in event_packed.go
// (amd64, 386) and event_aligned.go (the rest).

import (
	"strconv"
	"strings"
)

// The kernel's event bits, from include/uapi/linux/eventpoll.h, the same on
// every architecture. Event.Events returns the first six; the last three are
// the modes behind EdgeTriggered, Oneshot and Exclusive. They are uint32, the
// type of Events, so they combine and compare without conversions: the
// syscall package's EPOLLET is an untyped negative constant on some
// architectures, which uint32(syscall.EPOLLET) refuses to compile.
const (
	EPOLLIN    uint32 = 0x1    // readable
	EPOLLPRI   uint32 = 0x2    // urgent data
	EPOLLOUT   uint32 = 0x4    // writable
	EPOLLERR   uint32 = 0x8    // error condition, or a pipe's readers all gone (its write end); always reported
	EPOLLHUP   uint32 = 0x10   // hang-up: both directions closed, or a pipe's writers all gone (its read end); always reported
	EPOLLRDHUP uint32 = 0x2000 // the peer shut down its writing half (sockets only)

	EPOLLEXCLUSIVE uint32 = 1 << 28
	EPOLLONESHOT   uint32 = 1 << 30
	EPOLLET        uint32 = 1 << 31
)

// Short names for the package and its tests.
const (
	epollIn    = EPOLLIN
	epollPri   = EPOLLPRI
	epollOut   = EPOLLOUT
	epollErr   = EPOLLERR
	epollHup   = EPOLLHUP
	epollRdHup = EPOLLRDHUP
)

// Events returns the kernel's event bits: EPOLLIN, EPOLLOUT and the other
// EPOLL* constants of this package. The Is* methods interpret them; Events is
// for what they do not say, such as EPOLLHUP apart from EPOLLRDHUP.
func (e Event) Events() uint32 { return e.events }

// IsReadable reports whether the fd has data to read (EPOLLIN).
func (e Event) IsReadable() bool { return e.events&epollIn != 0 }

// IsWritable reports whether the fd can be written (EPOLLOUT).
func (e Event) IsWritable() bool { return e.events&epollOut != 0 }

// IsError reports an error condition on the fd (EPOLLERR), such as a failed
// connect; read it with getsockopt(SO_ERROR).
func (e Event) IsError() bool { return e.events&epollErr != 0 }

// IsPriority reports urgent data (EPOLLPRI).
func (e Event) IsPriority() bool { return e.events&epollPri != 0 }

// IsReadClosed reports that the read side is closed: the peer shut down its
// writing half (EPOLLRDHUP, asked for by Readable or ReadClosed), or the fd
// hung up (EPOLLHUP). Reads return what is left, then EOF; or, with
// IsError too, the error, such as ECONNRESET from a peer's reset.
func (e Event) IsReadClosed() bool { return e.events&(epollHup|epollRdHup) != 0 }

// IsWriteClosed reports that the write side is closed: the fd hung up, or
// writing failed (for a pipe, the reader is gone).
func (e Event) IsWriteClosed() bool {
	return e.events&epollHup != 0 || e.events&(epollOut|epollErr) == epollOut|epollErr || e.events == epollErr
}

// String names the token and the kernel's event bits, for logs and tests.
func (e Event) String() string {
	return "{Token: " + strconv.FormatUint(uint64(e.Token()), 10) + ", Events: " + flagNames(e.events, eventNames) + "}"
}

type flagName struct {
	bit  uint32
	name string
}

var eventNames = []flagName{
	{epollIn, "EPOLLIN"}, {epollPri, "EPOLLPRI"}, {epollOut, "EPOLLOUT"},
	{epollErr, "EPOLLERR"}, {epollHup, "EPOLLHUP"}, {0x20, "EPOLLNVAL"},
	{0x40, "EPOLLRDNORM"}, {0x80, "EPOLLRDBAND"}, {0x100, "EPOLLWRNORM"},
	{0x200, "EPOLLWRBAND"}, {0x400, "EPOLLMSG"}, {epollRdHup, "EPOLLRDHUP"},
}

func flagNames(bits uint32, names []flagName) string {
	var parts []string
	for _, f := range names {
		if bits&f.bit != 0 {
			parts = append(parts, f.name)
			bits &^= f.bit
		}
	}
	if bits != 0 || len(parts) == 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(bits), 16))
	}
	return strings.Join(parts, "|")
}
