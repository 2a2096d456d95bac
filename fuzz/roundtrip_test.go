package fuzz_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/rawpoll/epoll"
)

// The kinds of fd a fuzz input can pick.
const (
	pipeReader = iota // readable when the pipe holds data; hangs up when the writer closes
	pipeWriter        // always writable; EPOLLERR when the reader closes
	eventFD           // readable when the counter is non-zero; always writable
	socket            // one end of a unix stream socketpair
	numKinds
)

// Bits of FuzzRoundTrip's trigger byte.
const (
	trigWrite    = 1 << iota // write to the fd (or to its peer)
	trigHangUp               // close the other end
	trigShutdown             // with trigHangUp on a socket: shutdown(SHUT_WR) instead of close
	trigEarly                // trigger before registering, not after
	trigRaw      = 0x80      // use the interest bits as given, unknown ones included
)

const validInterest = epoll.Readable | epoll.Writable | epoll.Priority | epoll.ReadClosed | epoll.EdgeTriggered | epoll.Oneshot | epoll.Exclusive

// FuzzRoundTrip registers one fd of some kind with an arbitrary token and
// interest set, makes it ready in some way, and checks that Wait reports
// exactly that token with exactly the readiness the kernel should report;
// that level-triggered registrations report again and edge-triggered and
// oneshot ones do not; that Reregister replaces the token; and that nothing
// comes after Deregister. Invalid interest sets must get a clear EINVAL.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0x8877665544332211), uint32(epoll.Readable|epoll.Writable), uint8(socket), uint8(trigWrite))
	f.Fuzz(func(t *testing.T, token uint64, interest uint32, kind, trigger uint8) {
		k := newKit(t)
		p := k.poll()
		i := epoll.Interest(interest)
		if trigger&trigRaw == 0 {
			i &= validInterest
		}
		tok := epoll.Token(token)

		// fd is registered, writeTo makes it (or its peer) readable, and peer
		// is the other end, which hangs up.
		var fd, writeTo, peer int
		var ready uint32 // the kernel bits the fd will have once triggered
		kind %= numKinds
		switch kind {
		case pipeReader:
			fd, peer = k.pipe()
			writeTo = peer
			ready = pick(trigger&trigWrite != 0, epollIn) | pick(trigger&trigHangUp != 0, epollHup)
		case pipeWriter:
			peer, fd = k.pipe()
			writeTo = fd // one byte does not fill the pipe
			ready = epollOut | pick(trigger&trigHangUp != 0, epollErr)
		case eventFD:
			fd = k.eventfd()
			writeTo, peer = fd, fd
			ready = epollOut | pick(trigger&trigWrite != 0, epollIn)
		case socket:
			fd, peer = k.socketpair()
			writeTo = peer
			ready = epollOut | pick(trigger&trigWrite != 0, epollIn)
			if trigger&trigHangUp != 0 {
				// The peer's shutdown(SHUT_WR) means EOF; its close, a hang-up.
				ready |= epollIn | epollRdHup | pick(trigger&trigShutdown == 0, epollHup)
			}
		}
		fire := func() {
			// Write before hanging up: writing to a pipe with no reader is EPIPE.
			if trigger&trigWrite != 0 {
				k.write(writeTo, kind == eventFD)
			}
			switch {
			case trigger&trigHangUp == 0 || kind == eventFD:
			case kind == socket && trigger&trigShutdown != 0:
				if err := syscall.Shutdown(peer, syscall.SHUT_WR); err != nil {
					t.Fatal(err)
				}
			default:
				k.close(peer)
			}
		}

		if trigger&trigEarly != 0 {
			fire()
		}
		err := p.Registry().Register(fd, tok, i)
		exclusive := i&epoll.Exclusive != 0
		switch {
		case i&^validInterest != 0, exclusive && i&(epoll.Oneshot|epoll.Priority|epoll.ReadClosed) != 0:
			// Unknown bits (caught by the package) or combinations the
			// kernel refuses.
			wantOpError(t, err, "register", fd, syscall.EINVAL)
			return
		case err != nil:
			t.Fatalf("Register(%d, %#x, %v): %v", fd, token, i, err)
		}
		if trigger&trigEarly == 0 {
			fire()
		}

		// What the kernel reports: the ready bits asked for, plus EPOLLERR and
		// EPOLLHUP, which are always reported.
		asked := uint32(epollErr | epollHup)
		asked |= pick(i&epoll.Readable != 0, epollIn) | pick(i&epoll.Writable != 0, epollOut) | pick(i&epoll.Priority != 0, epollPri)
		asked |= pick(i&epoll.Readable != 0 && !exclusive || i&epoll.ReadClosed != 0, epollRdHup) // as Readable and ReadClosed document
		bits := ready & asked
		once := []seen{seeBits(tok, bits)}
		if bits == 0 {
			once = nil
		}
		buf := make([]epoll.Event, 0, 4)
		expectEvents(t, p, buf, "first Wait", once)
		if i&(epoll.EdgeTriggered|epoll.Oneshot) == 0 {
			expectEvents(t, p, buf, "second Wait, level-triggered", once)
		} else {
			expectEvents(t, p, buf, "second Wait, edge-triggered or oneshot", nil)
		}

		// Reregister polls the fd again, so a ready fd reports at once, with
		// the new token, in every mode (this also re-arms a oneshot).
		err = p.Registry().Reregister(fd, ^tok, i)
		if exclusive {
			wantOpError(t, err, "reregister", fd, syscall.EINVAL)
		} else {
			if err != nil {
				t.Fatalf("Reregister(%d, %#x, %v): %v", fd, ^token, i, err)
			}
			var again []seen
			if bits != 0 {
				again = []seen{seeBits(^tok, bits)}
			}
			expectEvents(t, p, buf, "after Reregister", again)
		}
		if err := p.Registry().Deregister(fd); err != nil {
			t.Fatalf("Deregister(%d): %v", fd, err)
		}
		expectEvents(t, p, buf, "after Deregister", nil)
	})
}

func pick(cond bool, bits uint32) uint32 {
	if cond {
		return bits
	}
	return 0
}

// expectEvents waits without blocking and compares, in order, what the
// accessors of the returned events say.
func expectEvents(t *testing.T, p *epoll.Poll, buf []epoll.Event, what string, want []seen) {
	t.Helper()
	events, err := p.Wait(buf, 0)
	if err != nil {
		t.Fatalf("%s: Wait: %v", what, err)
	}
	have := make([]seen, 0, len(events))
	for _, e := range events {
		have = append(have, see(e))
	}
	if len(have) != len(want) {
		t.Fatalf("%s: got %d events %+v, want %+v", what, len(have), have, want)
	}
	for j := range have {
		if have[j] != want[j] {
			t.Fatalf("%s: event %d is %+v (%v), want %+v", what, j, have[j], events[j], want[j])
		}
	}
}

func wantOpError(t *testing.T, err error, op string, fd int, errno syscall.Errno) {
	t.Helper()
	var oe *epoll.OpError
	if !errors.As(err, &oe) || oe.Op != op || oe.Fd != fd || !errors.Is(err, errno) {
		t.Fatalf("got error %v, want an *epoll.OpError for %s fd %d wrapping %v", err, op, fd, errno)
	}
}
