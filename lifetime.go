package epoll

import "sync/atomic"

// lifetime lets Close wait for the calls using an fd, so that the fd number
// is never closed, and perhaps reused, under a running system call.
type lifetime struct {
	state   atomic.Uint64 // closedBit | number of calls in flight
	drained chan struct{} // signalled when a call leaves a closed lifetime
}

const closedBit = 1 << 63

func newLifetime() lifetime { return lifetime{drained: make(chan struct{}, 1)} }

// acquire enters a call, or reports false if the lifetime is closed. The
// zero lifetime, of a Poll or Waker not made by New or NewWaker, is closed:
// its zero fd field would name fd 0, somebody else's file.
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
// then, which Wait needs to know: the answer comes with the decrement,
// without another load.
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

func (l *lifetime) closed() bool { return l.state.Load()&closedBit != 0 }

// close marks the lifetime closed and reports whether this call did it.
func (l *lifetime) close() bool {
	return l.drained != nil && l.state.Or(closedBit)&closedBit == 0
}

// waitDrained blocks until no call is in flight. Only the closer calls it.
func (l *lifetime) waitDrained() {
	for l.state.Load() != closedBit {
		<-l.drained
	}
}
