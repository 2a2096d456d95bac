package epoll

import "sync/atomic"

// lifetime is the protocol by which Close races every other call on a Poll
// or Waker: Close waits for the calls using the fd to leave it, so that the
// fd number is never closed, and perhaps reused by another file, under a
// running system call. In the manner of Go's internal/poll/fd_mutex.go:
//
// State: one atomic word, closedBit | n, n the calls in flight.
//
//	open(n) --close--> closing(n > 0) --last release--> drained (closedBit, n = 0)
//	open(0) --close--------------------------------------> drained
//
// The states:
//
//   - open(n): acquire makes it n+1, release n-1.
//   - closing(n): closed, calls still in flight; acquire fails, release
//     makes it n-1, and the release that leaves n = 0 signals drained.
//   - drained: closed, nothing in flight, and nothing can enter: only now
//     may the closer close the fd.
//   - the zero lifetime (a zero Poll or Waker, not made by New or
//     NewWaker) is closed from the start for good: acquire and close fail,
//     since its zero fd field would name fd 0, somebody else's file.
//
// Who calls what:
//
//   - acquire and release: every call that uses the fd (ctl, Wait,
//     SetBusyPoll and BusyPoll, Wake), from any goroutine, around its system
//     calls. A failed acquire returns ErrClosed without touching the fd.
//   - closed: a peek, for callers that do not use the fd (Fd, a Wake
//     checking its Poll, a Wait deciding whether to retry).
//   - close and waitDrained: the closer only: Poll.Close, serialized by its
//     closeMu and retried if it returned early, or the Waker.Close whose
//     close reported true.
//
// Invariants:
//
//   - closedBit is never cleared, and a closed lifetime never lets a new
//     call in: acquire adds 1 and tests the bit in one atomic Add, so
//     against close's Or there are two orders only. The Add first: the
//     closer counts the call and waits for it. The Or first: acquire sees
//     the bit and backs out with a release, having touched nothing.
//   - No wake-up is lost: every release that brings the state to closedBit
//     sends on drained without blocking (its buffer of one holds any pending
//     signal), and waitDrained re-reads the state after every receive, so a
//     stale signal, such as one from an acquire that backed out, only costs
//     it another look.
//
// How Close waits: close marks the state; the closer then makes every call
// in flight return (Poll.Close writes its eventfd, registered
// level-triggered and never read, so every Wait in the kernel or about to
// enter it returns at once; Waits retry only while the lifetime is open);
// waitDrained blocks until drained; then the fd is closed. release tells its
// caller whether Close began meanwhile, so that a Wait it overlapped
// reports ErrClosed instead of events.
type lifetime struct {
	state   atomic.Uint64 // closedBit | number of calls in flight
	drained chan struct{} // signalled when a call leaves a closed lifetime
}

const closedBit = 1 << 63

func newLifetime() lifetime { return lifetime{drained: make(chan struct{}, 1)} }

// acquire enters a call, or reports false if the lifetime is closed.
func (l *lifetime) acquire() bool {
	if l.drained == nil {
		return false
	}
	if l.state.Add(1)&closedBit != 0 {
		l.release()
		return false
	}
	return true
}

// release leaves a call and reports whether the lifetime was closed by
// then: the answer comes with the decrement, without another load.
func (l *lifetime) release() (closed bool) {
	s := l.state.Add(^uint64(0))
	if s == closedBit {
		select {
		case l.drained <- struct{}{}:
		default: // Close has a wake-up pending already.
		}
	}
	return s&closedBit != 0
}

// fdOf returns fd, the owner's fd field, or -1 for the zero lifetime, whose
// owner's zero fd field would name fd 0, which is not its own: errors name
// -1 there, as Fd does.
func (l *lifetime) fdOf(fd int) int {
	if l.drained == nil {
		return -1
	}
	return fd
}

func (l *lifetime) closed() bool { return l.state.Load()&closedBit != 0 }

// close marks the lifetime closed and reports whether this call did it.
func (l *lifetime) close() bool {
	return l.drained != nil && l.state.Or(closedBit)&closedBit == 0
}

// waitDrained blocks until no call is in flight.
func (l *lifetime) waitDrained() {
	for l.state.Load() != closedBit {
		<-l.drained
	}
}
