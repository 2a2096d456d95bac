package bench

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"unsafe"

	"github.com/rawpoll/epoll"
	"golang.org/x/sys/unix"
)

// Every implementation registers with the bits this package asks for, so the
// kernel does the same work for all of them: Readable is EPOLLIN|EPOLLRDHUP,
// and a Waker adds EPOLLET.
const (
	readable = unix.EPOLLIN | unix.EPOLLRDHUP
	wakeable = readable | unix.EPOLLET
)

// implNames are the implementations under test; see the package doc.
var implNames = []string{"epoll", "raw", "syscall", "unix"}

// impls returns implNames rotated by $BENCH_ROUND. scripts/bench.sh runs one
// round per process and rotates, so each implementation goes first, second,
// and so on equally often, and drift in clock speed or load hits all alike.
func impls() []string {
	r, _ := strconv.Atoi(os.Getenv("BENCH_ROUND"))
	out := make([]string, len(implNames))
	for i := range out {
		out[i] = implNames[(i+r)%len(implNames)]
	}
	return out
}

// BenchmarkWaitReady is a Wait with timeout 0 on an instance where n
// registered fds are ready (level-triggered, so every Wait reports all n).
// The loop also reads each event's token, as every caller must.
func BenchmarkWaitReady(b *testing.B) {
	for _, n := range []int{1, 64, 1024} {
		b.Run("ready="+strconv.Itoa(n), func(b *testing.B) {
			for _, impl := range impls() {
				b.Run("impl="+impl, func(b *testing.B) {
					benchWait0(b, impl, eventfds(b, n, true), 0)
					if n > 1 {
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
					}
				})
			}
		})
	}
}

// BenchmarkWaitIdle is a Wait with timeout 0 that reports 1 ready fd while n
// more are registered and idle. epoll keeps a ready list, so the idle ones
// should cost nothing: that is the point of epoll over poll/select.
func BenchmarkWaitIdle(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		b.Run("idle="+strconv.Itoa(n), func(b *testing.B) {
			for _, impl := range impls() {
				b.Run("impl="+impl, func(b *testing.B) {
					benchWait0(b, impl, eventfds(b, 1, true), n)
				})
			}
		})
	}
}

// benchWait0 registers the ready fds (token = fd) and idle idle ones with a
// new instance of impl, and measures Wait(timeout 0), which must report
// exactly the ready fds.
func benchWait0(b *testing.B, impl string, ready []int, idle int) {
	var want uint64
	for _, fd := range ready {
		want += uint64(fd)
	}
	check := func(n int, sum uint64) {
		if n != len(ready) || sum != want {
			b.Fatalf("%s: %d events, token sum %d; want %d, %d", impl, n, sum, len(ready), want)
		}
	}
	switch impl {
	case "epoll":
		p := newPoll(b)
		registerAll(b, ready, idle, func(fd int) error {
			return p.Registry().Register(fd, epoll.Token(fd), epoll.Readable)
		})
		events := make([]epoll.Event, 0, len(ready))
		var err error
		defer measure(b)()
		for b.Loop() {
			if events, err = p.Wait(events, 0); err != nil {
				b.Fatal(err)
			}
			var sum uint64
			for _, ev := range events {
				sum += uint64(ev.Token())
			}
			check(len(events), sum)
		}
	case "raw":
		epfd := epollFd(b, ready, idle, readable)
		events := make([]syscall.EpollEvent, len(ready))
		defer measure(b)()
		for b.Loop() {
			n, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
			if errno != 0 {
				b.Fatal(errno)
			}
			var sum uint64
			for _, ev := range events[:n] {
				sum += uint64(ev.Fd)
			}
			check(int(n), sum)
		}
	case "syscall":
		epfd := epollFd(b, ready, idle, readable)
		events := make([]syscall.EpollEvent, len(ready))
		defer measure(b)()
		for b.Loop() {
			n, err := syscall.EpollWait(epfd, events, 0)
			if err != nil {
				b.Fatal(err)
			}
			var sum uint64
			for _, ev := range events[:n] {
				sum += uint64(ev.Fd)
			}
			check(n, sum)
		}
	case "unix":
		epfd := epollFd(b, ready, idle, readable)
		events := make([]unix.EpollEvent, len(ready))
		defer measure(b)()
		for b.Loop() {
			n, err := unix.EpollWait(epfd, events, 0)
			if err != nil {
				b.Fatal(err)
			}
			var sum uint64
			for _, ev := range events[:n] {
				sum += uint64(ev.Fd)
			}
			check(n, sum)
		}
	default:
		b.Fatalf("unknown impl %q", impl)
	}
}

// registerAll registers the fds, then n idle ones. It opens n eventfds when
// RLIMIT_NOFILE can be raised that far. Where it cannot (a container without
// CAP_SYS_RESOURCE, whose hard limit is below n), it registers each of a few
// open eventfds under many fd numbers instead: dup, register the dup, close
// the dup. The kernel keys a registration by (file, fd number) and keeps it
// while the file is open, so the interest list holds n idle entries all the
// same, which is what Wait's cost could depend on.
func registerAll(b *testing.B, fds []int, n int, register func(fd int) error) {
	for _, fd := range fds {
		if err := register(fd); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		return
	}
	if err := raiseNofile(n); err == nil {
		for _, fd := range eventfds(b, n, false) {
			if err := register(fd); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	perFile := int(lim.Cur) / 2 // leave room for everything else open
	b.Logf("RLIMIT_NOFILE stays at %d: %d idle registrations are %d eventfds under %d fd numbers each", lim.Cur, n, (n+perFile-1)/perFile, perFile)
	registerDups(b, n, perFile, register)
}

// registerDups makes n registrations of ceil(n/perFile) eventfds, each under
// perFile fd numbers (dups that are closed again), with at most perFile
// extra fds open at a time. TestRegisterDups proves that they stay.
func registerDups(tb testing.TB, n, perFile int, register func(fd int) error) {
	dups := make([]int, 0, perFile)
	for left := n; left > 0; left -= len(dups) {
		file := eventfds(tb, 1, false)[0]
		dups = dups[:0]
		for range min(left, perFile) {
			fd, err := unix.Dup(file)
			if err != nil {
				tb.Fatal(err)
			}
			dups = append(dups, fd)
			if err := register(fd); err != nil {
				tb.Fatal(err)
			}
		}
		for _, fd := range dups {
			unix.Close(fd)
		}
	}
}

// BenchmarkRegisterDeregister adds an fd to the interest list and removes it
// again (EPOLL_CTL_ADD then EPOLL_CTL_DEL).
func BenchmarkRegisterDeregister(b *testing.B) {
	for _, impl := range impls() {
		b.Run("impl="+impl, func(b *testing.B) {
			fd := eventfds(b, 1, false)[0]
			switch impl {
			case "epoll":
				reg := newPoll(b).Registry()
				defer measure(b)()
				for b.Loop() {
					if err := reg.Register(fd, 1, epoll.Readable); err != nil {
						b.Fatal(err)
					}
					if err := reg.Deregister(fd); err != nil {
						b.Fatal(err)
					}
				}
			case "raw":
				epfd := epollFd(b, nil, 0, 0)
				ev := syscall.EpollEvent{Events: readable, Fd: 1}
				defer measure(b)()
				for b.Loop() {
					if _, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), syscall.EPOLL_CTL_ADD, uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0); errno != 0 {
						b.Fatal(errno)
					}
					if _, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), syscall.EPOLL_CTL_DEL, uintptr(fd), 0, 0, 0); errno != 0 {
						b.Fatal(errno)
					}
				}
			case "syscall":
				epfd := epollFd(b, nil, 0, 0)
				ev := syscall.EpollEvent{Events: readable, Fd: 1}
				defer measure(b)()
				for b.Loop() {
					if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
						b.Fatal(err)
					}
					if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_DEL, fd, nil); err != nil {
						b.Fatal(err)
					}
				}
			case "unix":
				epfd := epollFd(b, nil, 0, 0)
				ev := unix.EpollEvent{Events: readable, Fd: 1}
				defer measure(b)()
				for b.Loop() {
					if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
						b.Fatal(err)
					}
					if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
						b.Fatal(err)
					}
				}
			default:
				b.Fatalf("unknown impl %q", impl)
			}
		})
	}
}

// BenchmarkWakeWaitRoundTrip is a ping-pong between two goroutines, each
// blocked in its own Wait(Forever): one op is wake the echo side, which
// wakes back, and see that wake. For raw, syscall and unix the Waker is
// spelled out as its equivalent: an eventfd registered edge-triggered,
// written to wake and never read.
func BenchmarkWakeWaitRoundTrip(b *testing.B) {
	for _, impl := range impls() {
		b.Run("impl="+impl, func(b *testing.B) {
			var wakeA, wakeB func() error
			var waitA, waitB func() error
			switch impl {
			case "epoll":
				wakeA, waitA = wakerSide(b, 1)
				wakeB, waitB = wakerSide(b, 2)
			case "raw", "syscall", "unix":
				wakeA, waitA = eventfdSide(b, impl)
				wakeB, waitB = eventfdSide(b, impl)
			default:
				b.Fatalf("unknown impl %q", impl)
			}
			roundTrips(b, wakeA, waitA, wakeB, waitB)
		})
	}
}

// roundTrips runs the echo goroutine and the measured loop.
func roundTrips(b *testing.B, wakeA, waitA, wakeB, waitB func() error) {
	var stop, broken atomic.Bool
	done := make(chan error, 1)
	go func() {
		for {
			err := waitA()
			if err == nil && stop.Load() {
				done <- nil
				return
			}
			if err == nil {
				err = wakeB()
			}
			if err != nil {
				broken.Store(true)
				_ = wakeB() // unblock the measured loop; err, sent below, is the failure
				done <- err
				return
			}
		}
	}()
	report := measure(b)
	for b.Loop() {
		if err := wakeA(); err != nil {
			b.Fatal(err)
		}
		if err := waitB(); err != nil || broken.Load() {
			b.Fatal(err, <-done)
		}
	}
	report()
	stop.Store(true)
	if err := wakeA(); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// wakerSide is one side of the round trip for this package: a Poll with a
// Waker, and a Wait(Forever) for its event.
func wakerSide(b *testing.B, t epoll.Token) (wake, wait func() error) {
	p := newPoll(b)
	w, err := epoll.NewWaker(p.Registry(), t)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	events := make([]epoll.Event, 0, 8)
	wait = func() error {
		var err error
		if events, err = p.Wait(events, epoll.Forever); err != nil {
			return err
		}
		return expect(nil, len(events), uint64(events[:1][0].Token()), uint64(t))
	}
	return w.Wake, wait
}

// eventfdSide is one side of the round trip for the raw, syscall and unix
// implementations: an eventfd registered edge-triggered in its own epoll
// instance, a wake that writes 1 to it, and a blocking wait for its event.
func eventfdSide(b *testing.B, impl string) (wake, wait func() error) {
	efd := eventfds(b, 1, false)[0]
	epfd := epollFd(b, []int{efd}, 0, wakeable)
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0} // the uint64 1, little-endian (amd64, arm64)
	switch impl {
	case "raw":
		events := make([]syscall.EpollEvent, 8)
		forever := -1
		wake = func() error {
			if _, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(efd), uintptr(unsafe.Pointer(&one[0])), 8); errno != 0 {
				return errno
			}
			return nil
		}
		wait = func() error {
			for {
				n, _, errno := syscall.Syscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(forever), 0, 0)
				if errno != syscall.EINTR {
					return expect(errnoErr(errno), int(n), uint64(events[0].Fd), uint64(efd))
				}
			}
		}
	case "syscall":
		events := make([]syscall.EpollEvent, 8)
		wake = func() error { _, err := syscall.Write(efd, one); return err }
		wait = func() error {
			for {
				n, err := syscall.EpollWait(epfd, events, -1)
				if err != syscall.EINTR {
					return expect(err, n, uint64(events[0].Fd), uint64(efd))
				}
			}
		}
	case "unix":
		events := make([]unix.EpollEvent, 8)
		wake = func() error { _, err := unix.Write(efd, one); return err }
		wait = func() error {
			for {
				n, err := unix.EpollWait(epfd, events, -1)
				if err != unix.EINTR {
					return expect(err, n, uint64(events[0].Fd), uint64(efd))
				}
			}
		}
	}
	return wake, wait
}

// expect checks that a blocking wait returned exactly one event with the
// given token.
func expect(err error, n int, token, want uint64) error {
	if err != nil {
		return err
	}
	if n != 1 || token != want {
		return fmt.Errorf("%d events, first token %d; want 1 event, token %d", n, token, want)
	}
	return nil
}

// measure turns on allocation reports and starts measuring the process's
// CPU time; the function it returns reports CPU time per op, to be called
// after the loop. On a machine shared with other work, wall time per op
// includes the time other processes held the CPU, CPU time does not: it is
// the steadier figure, while ns/op is what a caller waits.
func measure(b *testing.B) (report func()) {
	b.ReportAllocs()
	start := processCPU(b)
	return func() {
		b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

func processCPU(b *testing.B) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return ts.Nano()
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func newPoll(b *testing.B) *epoll.Poll {
	p, err := epoll.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

// epollFd creates an epoll fd for the raw, syscall and unix implementations
// and registers fds and idle more with the given events, token = fd. Setup
// is not measured, so it uses x/sys for all three.
func epollFd(b *testing.B, fds []int, idle int, events uint32) int {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(epfd) })
	registerAll(b, fds, idle, func(fd int) error {
		ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
		return unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev)
	})
	return epfd
}

// eventfds opens n non-blocking eventfds, closed when b ends. Ready ones have
// a count of 1, so they stay readable: nothing ever reads them.
func eventfds(tb testing.TB, n int, ready bool) []int {
	if err := raiseNofile(n); err != nil {
		tb.Fatal(err)
	}
	fds := make([]int, 0, n)
	tb.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	for range n {
		fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			tb.Fatalf("eventfd %d of %d: %v", len(fds)+1, n, err)
		}
		fds = append(fds, fd)
		if ready {
			if _, err := unix.Write(fd, one); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return fds
}

// raiseNofile makes room for n more fds. 100k idle fds need more than the
// usual limits, and raising the hard limit needs CAP_SYS_RESOURCE.
func raiseNofile(n int) error {
	const margin = 1024 // the other benchmarks' fds, the runtime's, the test binary's
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	need := uint64(n + margin)
	if lim.Cur >= need {
		return nil
	}
	lim.Cur = need
	lim.Max = max(lim.Max, need)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raise RLIMIT_NOFILE to %d for %d fds: %w", need, n, err)
	}
	return nil
}
