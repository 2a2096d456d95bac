package epoll

// The test side of the package's one test hook (hooks.go): counters that
// tests read.

import (
	"sync/atomic"
	"syscall"
	"testing"
)

// eintrRetries counts the EINTRs that Waits retried, in every Poll of the
// test binary; tests use it to show that a signal really arrived.
var eintrRetries atomic.Uint64

// counted is the Poll whose Waits' system calls countWaitCalls is counting.
var counted atomic.Pointer[waitCalls]

type waitCalls struct {
	p *Poll
	n atomic.Uint64
}

func init() {
	waitHook = func(p *Poll, errno syscall.Errno) {
		if errno == syscall.EINTR {
			eintrRetries.Add(1)
		}
		if c := counted.Load(); c != nil && c.p == p {
			c.n.Add(1)
		}
	}
}

// countWaitCalls counts the system calls that p's Waits with a positive
// timeout make (the raw first wait included) until the test ends.
func countWaitCalls(t *testing.T, p *Poll) *atomic.Uint64 {
	c := &waitCalls{p: p}
	counted.Store(c)
	t.Cleanup(func() { counted.CompareAndSwap(c, nil) })
	return &c.n
}
