package epoll

// Waiting for events. The timeout rules are stated once, in Wait's
// comment, and kept here: Forever and maxTimeout, the two wait paths
// (epoll_pwait2 with nanoseconds, epoll_pwait with whole milliseconds) and
// the process-wide choice between them (WaitPath), and the conversions.
// How a Wait ends when Close races it is lifetime.go's protocol.

import (
	"math"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Forever is a Wait timeout without a deadline: Wait returns with events or
// ErrClosed only. It is the largest Duration, which no arithmetic on real
// deadlines produces by accident, unlike the -1 of epoll_wait.
const Forever = time.Duration(math.MaxInt64)

// maxTimeout is the longest timeout epoll_pwait can express: MaxInt32
// milliseconds, about 24.8 days. Wait treats it and anything longer as
// Forever on both wait paths, so that what a timeout means does not depend
// on which path the process ended up on.
const maxTimeout = math.MaxInt32 * time.Millisecond

// maxEvents is the kernel's EP_MAX_EVENTS: more slots are refused with EINVAL.
const maxEvents = math.MaxInt32 / eventSize

// pwait2Missing records that epoll_pwait2 answered ENOSYS (kernels before
// 5.11, qemu-user before 11.0) or EPERM (seccomp profiles that predate it),
// so later timed waits go straight to epoll_pwait. It is process-wide and
// never reset: see WaitPath.
var pwait2Missing atomic.Bool

// pwait2Probed records that New has tried epoll_pwait2 once, so that
// WaitPath is right before the first timed Wait.
var pwait2Probed atomic.Bool

// probePwait2 makes one epoll_pwait2 call with a zero timeout on a new epoll
// fd, the first time New runs in the process. It returns at once: the fd has
// nothing registered yet.
func probePwait2(epfd int) {
	if pwait2Probed.Load() {
		return
	}
	var ev Event
	var ts timespec
	// Raw: with nothing registered there is no ready list to walk, so no
	// poll hook to call and no mutex to wait for; a zero timeout never sleeps.
	_, _, errno := syscall.RawSyscall6(sysEpollPwait2, uintptr(epfd), uintptr(unsafe.Pointer(&ev)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0)
	if errno == syscall.ENOSYS || errno == syscall.EPERM {
		pwait2Missing.Store(true)
	}
	pwait2Probed.Store(true)
}

// WaitPath names the system call that Waits with a positive timeout use in
// this process: "epoll_pwait2", with nanosecond timeouts, or "epoll_pwait",
// with timeouts rounded up to whole milliseconds. (Wait(0), a negative
// timeout and Forever behave the same on both, and so does a timeout of
// whole milliseconds, which goes to epoll_pwait on both as it costs less.)
//
// The choice is process-wide and one-way. The first New tries epoll_pwait2,
// and any Wait that gets ENOSYS (Linux before 5.11, qemu-user before 11.0) or
// EPERM (a seccomp profile that predates the call) from it switches every
// Poll in the process to epoll_pwait for good. seccomp filters are per
// thread, so one thread's filter is enough to switch all of them.
func WaitPath() string {
	if pwait2Missing.Load() {
		return "epoll_pwait"
	}
	return "epoll_pwait2"
}

// Wait blocks until at least one event is ready or timeout has passed, and
// returns events[:n] holding the n events the kernel filled in. Up to
// cap(events) events are returned; len(events) is ignored, so the same
// buffer can be passed again: events, err = p.Wait(events, timeout).
//
// A timeout of 0 or less never blocks: it returns what is ready now, so
// Wait(events, time.Until(deadline)) with a deadline just passed polls, as a
// past deadline does elsewhere in Go. Forever, and any timeout of MaxInt32
// milliseconds (about 24.8 days, the longest epoll_pwait takes) or more,
// waits until an event arrives, on either wait path. Other timeouts have
// nanosecond precision on the epoll_pwait2 path and are rounded up to whole
// milliseconds on the epoll_pwait path (see WaitPath), so a short timeout
// never becomes a busy loop. Signals do not end a Wait early: it retries
// against the original deadline and never returns EINTR.
//
// A Wait with a positive timeout first sleeps up to 10 ms without telling
// Go's scheduler, keeping its P (the right to run Go code) as a running
// goroutine does. Only a Wait still empty after that yields
// (runtime.Gosched) and waits on as a blocking system call. An event
// loop's waits under load are mostly far shorter, and a P held in a
// scheduler-visible wait is what the runtime keeps taking away, at the cost
// of waking another thread each time (see BENCHMARKS.md). The trade: a
// goroutine that becomes ready while the Wait sleeps may wait for it up to
// those 10 ms, the time slice the runtime gives any goroutine before it
// preempts it, unless another P is free.
//
// Several goroutines may call Wait on one Poll at once, each with its own
// events slice (a slice must not be shared with a Wait in progress). An
// edge-triggered or Oneshot event goes to exactly one of them; a
// level-triggered fd that stays ready may be reported to several. Close
// ends every Wait in progress: each returns an error wrapping ErrClosed.
func (p *Poll) Wait(events []Event, timeout time.Duration) ([]Event, error) {
	events = events[:0]
	r := &p.registry
	if !r.life.acquire() {
		return events, &OpError{Op: "wait", Fd: r.life.fdOf(r.epfd), Err: ErrClosed}
	}
	var n int
	errno := syscall.EINVAL // unless the slice has capacity
	if slots := min(cap(events), maxEvents); slots > 0 {
		buf := unsafe.SliceData(events)
		if timeout <= 0 {
			// An event loop's most frequent call, raw because telling the
			// scheduler would cost a few percent of it. It never waits for
			// events, and no signal interrupts it; it can stall only as
			// epoll_ctl can (see epollCtl), for the instance's mutex and
			// the poll hook of each ready file, such as a FUSE file's.
			var r1 uintptr
			r1, _, errno = syscall.RawSyscall6(sysEpollPwait, uintptr(r.epfd), uintptr(unsafe.Pointer(buf)), uintptr(slots), 0, 0, 0)
			n = int(r1)
		} else {
			n, errno = p.waitBlocking(buf, slots, timeout)
		}
	}
	switch closed := r.life.release(); {
	case closed:
		return events, &OpError{Op: "wait", Fd: r.epfd, Err: ErrClosed}
	case errno != 0:
		return events, &OpError{Op: "wait", Fd: r.epfd, Err: errno}
	}
	if n > 0 {
		r.wakers.rearm()
	}
	return events[:n], nil
}

// rawWaitMax is the longest a blocking Wait sleeps in the kernel without
// telling the scheduler: Go's time slice (forcePreemptNS), and longer than
// the kernel's tick (4 ms at HZ=250, 10 ms at HZ=100). A wait's timeout
// shorter than the tick is the earliest timer on its CPU and is programmed
// into the timer hardware on every sleep, an exit to the hypervisor in a
// virtual machine: with 0.2 or 1 ms BenchmarkBlockingWaitEcho cost more CPU
// than the Wait that tells the scheduler at once, with 4 to 20 ms less. It
// is a variable only so that BenchmarkBlockingWaitEcho can measure that
// Wait, rawWaitMax = 0, in the same run.
var rawWaitMax = 10 * time.Millisecond

// clockBase is the origin of monotonic's readings.
var clockBase = time.Now()

// monotonic reads the monotonic clock, which is all a timeout needs: one
// clock read where time.Now makes two (the wall clock too), 25 against 42
// ns here, and every timed Wait reads it.
func monotonic() time.Duration { return time.Since(clockBase) }

// waitBlocking waits for events in buf[:slots] for up to timeout, which is
// positive, or forever if it is maxTimeout or more. A signal's EINTR is
// retried against the original deadline; Close ends the wait through its
// eventfd.
//
// Its first rawWaitMax is one wait made with RawSyscall6, which the
// scheduler does not see: to it the goroutine is running. A goroutine
// asleep in a Syscall6 keeps its P only until sysmon, polling every 20 µs
// to 10 ms, finds it in the same call twice while no P is idle. Then it
// takes the P and wakes a thread with a futex to run it; that thread finds
// nothing to do and sleeps again, and the waiter, woken, must get a P back
// through the scheduler's lock. Each such retake also puts sysmon back to
// its 20 µs tick, so that, once started, it catches nearly every wait of a
// busy loop, and that state lasted seconds under a steady load. A raw wait
// gives sysmon nothing to take. It cannot starve the process: it ends
// within rawWaitMax, and a preemption signal (from sysmon, or a
// stop-the-world for the GC) ends it at once with EINTR, after which the
// yield lets the scheduler have its way. There is no yield before it: on a
// goroutine locked to its thread a yield hands the P to another thread and
// back, which would cost an event loop that locks its thread on every
// Wait, and on a slow emulated machine can take a short timeout's whole
// length. BENCHMARKS.md has the measurements.
func (p *Poll) waitBlocking(buf *Event, slots int, timeout time.Duration) (int, syscall.Errno) {
	forever := timeout >= maxTimeout
	var start time.Duration
	if !forever {
		start = monotonic()
	}
	remaining := timeout
	if rawWaitMax > 0 {
		n, errno := p.waitOnce(buf, slots, min(timeout, rawWaitMax), true)
		if waitHook != nil {
			waitHook(p, errno)
		}
		if n > 0 || (errno != 0 && errno != syscall.EINTR) {
			return n, errno
		}
		// Out of time, or interrupted: a long sleep follows, or the
		// signal asked this goroutine to give up its P, so it passes
		// through the scheduler, which runs whatever became ready. That
		// also keeps sysmon from taking the P of a goroutine that has not
		// been through the scheduler for 10 ms at once when it enters the
		// long wait.
		runtime.Gosched()
		if !forever {
			if remaining = timeout - (monotonic() - start); remaining <= 0 {
				return 0, 0
			}
		}
	}
	for {
		n, errno := p.waitOnce(buf, slots, remaining, false)
		if waitHook != nil {
			waitHook(p, errno)
		}
		switch {
		case errno == syscall.EINTR: // a signal: retried below
		case errno != 0 || n > 0:
			return n, errno
		}
		if p.registry.life.closed() {
			return 0, 0
		}
		if !forever {
			// Time spent before the signal or an early wake-up counts.
			if remaining = timeout - (monotonic() - start); remaining <= 0 {
				return 0, 0
			}
		}
	}
}

// waitOnce makes one epoll_pwait2 or epoll_pwait call into buf[:slots],
// with no timeout if timeout is maxTimeout or more: raw, unseen by the
// scheduler, or as a blocking system call. Only a timeout with a fraction
// of a millisecond goes to epoll_pwait2: epoll_pwait takes whole
// milliseconds as an int, which the kernel turns into the same deadline,
// where epoll_pwait2 copies in a timespec (about 20 ns more here), and the raw
// wait's 10 ms, Forever and many callers' timeouts are whole. (Each pointer
// becomes a uintptr in the call expression itself, as unsafe.Pointer's
// rule 4 requires, hence the calls written out twice.)
func (p *Poll) waitOnce(buf *Event, slots int, timeout time.Duration, raw bool) (int, syscall.Errno) {
	epfd := uintptr(p.registry.epfd)
	var n uintptr
	var errno syscall.Errno
	if timeout < maxTimeout && timeout%time.Millisecond != 0 && !pwait2Missing.Load() {
		ts := timespec{sec: int64(timeout / time.Second), nsec: int64(timeout % time.Second)}
		if raw {
			n, _, errno = syscall.RawSyscall6(sysEpollPwait2, epfd, uintptr(unsafe.Pointer(buf)), uintptr(slots), uintptr(unsafe.Pointer(&ts)), 0, 0)
		} else {
			n, _, errno = syscall.Syscall6(sysEpollPwait2, epfd, uintptr(unsafe.Pointer(buf)), uintptr(slots), uintptr(unsafe.Pointer(&ts)), 0, 0)
		}
		if errno != syscall.ENOSYS && errno != syscall.EPERM {
			return int(n), errno
		}
		pwait2Missing.Store(true)
	}
	// uintptr(int32) sign-extends, so -1 reaches the kernel's int as -1.
	ms := uintptr(msTimeout(timeout)) //nolint:gosec // G115: the sign extension is wanted
	if raw {
		n, _, errno = syscall.RawSyscall6(sysEpollPwait, epfd, uintptr(unsafe.Pointer(buf)), uintptr(slots), ms, 0, 0)
	} else {
		n, _, errno = syscall.Syscall6(sysEpollPwait, epfd, uintptr(unsafe.Pointer(buf)), uintptr(slots), ms, 0, 0)
	}
	return int(n), errno
}

// timespec is the kernel's struct __kernel_timespec: two 64-bit fields on
// every architecture, 32-bit ones included.
type timespec struct {
	sec  int64
	nsec int64
}

// msTimeout converts a positive timeout to epoll_pwait's int milliseconds:
// maxTimeout or more becomes -1 (no deadline), and the rest round up so they
// never become 0.
func msTimeout(d time.Duration) int32 {
	switch {
	case d >= maxTimeout:
		return -1
	case d <= 0:
		return 0
	}
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return int32(ms)
}
