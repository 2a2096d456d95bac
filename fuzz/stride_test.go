package fuzz_test

import (
	"testing"
	"unsafe"

	"github.com/rawpoll/epoll"
)

const maxFds = 64 // per iteration, so the corpus replays quickly under qemu

// FuzzStride makes up to 64 fds of mixed kinds ready at once, with arbitrary
// distinct tokens and mixed trigger modes, and reads them through an events
// buffer of arbitrary capacity, draining each fd as its event arrives, the
// way an event loop does. Every fd must come back exactly once across as
// many Waits as needed, each Wait as full as the buffer allows, and no event
// may be garbled. An Event of the wrong size garbles every event but the
// first, so this is where a layout bug shows first.
func FuzzStride(f *testing.F) {
	f.Add(uint8(64), uint8(7), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, uint64(1), []byte("\x11\x22\x33\x44\x55\x66\x77\x88"))
	f.Fuzz(func(t *testing.T, nfds, capacity uint8, modes []byte, seed uint64, tokenBytes []byte) {
		n := 1 + int(nfds)%maxFds
		c := 1 + int(capacity)%(maxFds+8)
		k := newKit(t)
		p := k.poll()
		toks := uniqueTokens(n, tokenBytes, seed)

		type entry struct {
			fd       int // registered, and drained when its event comes
			reported bool
		}
		byToken := make(map[epoll.Token]*entry, n)
		for i, tok := range toks {
			m := byte(splitmix64(seed ^ uint64(i)))
			if i < len(modes) {
				m = modes[i]
			}
			var fd, writeTo int
			switch m % 3 {
			case 0:
				fd = k.eventfd()
				writeTo = fd
			case 1:
				fd, writeTo = k.pipe()
			case 2:
				fd, writeTo = k.socketpair()
			}
			interest := epoll.Readable | [...]epoll.Interest{0, epoll.EdgeTriggered, epoll.Oneshot}[m/3%3]
			early := m/9%2 == 1 // ready before registering, or after
			if early {
				k.write(writeTo, m%3 == 0)
			}
			k.register(p, fd, tok, interest)
			if !early {
				k.write(writeTo, m%3 == 0)
			}
			byToken[tok] = &entry{fd: fd}
		}

		// An arbitrary length: Wait must use the capacity and ignore it.
		buf := make([]epoll.Event, int(seed%uint64(c+1)), c)
		for remaining, waits := n, 0; remaining > 0; waits++ {
			if waits > n {
				t.Fatalf("%d Waits and still %d of %d events missing", waits, remaining, n)
			}
			events, err := p.Wait(buf, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := min(c, remaining); len(events) != want {
				t.Fatalf("Wait %d with capacity %d returned %d events, want %d (%d of %d not yet reported)", waits, c, len(events), want, remaining, n)
			}
			if len(events) > 0 && unsafe.SliceData(events) != unsafe.SliceData(buf) {
				t.Fatal("Wait returned events outside the buffer it was given")
			}
			for j, e := range events {
				ent, ok := byToken[e.Token()]
				switch {
				case !ok:
					t.Fatalf("Wait %d, event %d of %d: token %#x was never registered (garbled event %v)", waits, j, len(events), uint64(e.Token()), e)
				case ent.reported:
					t.Fatalf("Wait %d, event %d of %d: token %#x reported twice", waits, j, len(events), uint64(e.Token()))
				case see(e) != (seen{Token: e.Token(), Readable: true}):
					t.Fatalf("Wait %d, event %d of %d: %+v, want only Readable", waits, j, len(events), see(e))
				}
				ent.reported = true
				remaining--
				if !k.drain(ent.fd) {
					t.Fatalf("token %#x reported readable, but its fd %d had nothing to read", uint64(e.Token()), ent.fd)
				}
			}
			buf = events
		}
		expectEvents(t, p, buf, "after every event was reported once", nil)
	})
}
