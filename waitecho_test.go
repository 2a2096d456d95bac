package epoll

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// echoPeerEnv makes TestEchoPeer the other end of echoRun: it is set, to
// the round trips per connection, in the child process echoRun starts.
const echoPeerEnv = "EPOLL_ECHO_PEER"

// echoImpl names BenchmarkBlockingWaitEcho's two Waits, by whether they
// sleep their first rawWaitMax unseen by the scheduler.
var echoImpl = map[bool]string{true: "raw", false: "block"}

// echoConns is the number of connections of echoRun, split over two loops.
const echoConns = 16

// BenchmarkBlockingWaitEcho measures what a blocking Wait costs two event
// loops (GOMAXPROCS=2, a goroutine and a Poll each, Wait(Forever)) that
// echo one byte at a time on 16 socket pairs to another process, which
// sends the next byte on each as soon as the last came back: the shape of
// an event-loop server under a load generator, every next event a few
// microseconds away. impl=raw is Wait as it is (its first millisecond a
// wait the scheduler does not see), impl=block the Wait that goes
// straight into the scheduler-visible blocking call; scripts/bench.sh runs
// them in alternating processes (BENCH_ROUND odd puts impl=block first). Per round
// trip it reports the loops' process CPU time and its context switches
// (getrusage; the peer process is not counted).
func BenchmarkBlockingWaitEcho(b *testing.B) {
	raws := []time.Duration{rawWaitMax, 0}
	if r, _ := strconv.Atoi(os.Getenv("BENCH_ROUND")); r%2 == 1 {
		raws[0], raws[1] = raws[1], raws[0]
	}
	for _, raw := range raws {
		b.Run("impl="+echoImpl[raw > 0], func(b *testing.B) {
			cpu, ctxsw := echoRun(b, raw, max(1, b.N/echoConns), true)
			b.ReportMetric(cpu, "cpu-ns/op")
			b.ReportMetric(ctxsw, "ctxsw/op")
		})
	}
}

// The echo of BenchmarkBlockingWaitEcho completes every round trip on
// every connection with both Wait paths. The benchmark's peer is this test
// in a child process; here the peer runs in this process, so that the test
// also runs under qemu-user, which cannot exec a foreign binary without
// binfmt_misc (scripts/bench.sh runs the benchmark natively).
func TestEchoPeer(t *testing.T) {
	if n, err := strconv.Atoi(os.Getenv(echoPeerEnv)); err == nil {
		runtime.LockOSThread() // one thread, like wrk's
		fds := make([]int, echoConns)
		for i := range fds {
			fds[i] = 3 + i // cmd.ExtraFiles
		}
		if err := echoPeer(fds, n); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, raw := range []time.Duration{rawWaitMax, 0} {
		echoRun(t, raw, 50, false) // fails unless every connection saw 50 round trips and EOF
	}
}

// echoPeer sends a byte on each of fds (blocking sockets) and the next one
// as soon as it comes back, n times, then closes the fd. Like wrk it is
// one epoll instance, so that in a child process the loops' next events
// come from outside their process, microseconds apart.
func echoPeer(fds []int, n int) error {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	defer syscall.Close(epfd)
	left := map[int32]int{}
	for _, fd := range fds {
		left[int32(fd)] = n //nolint:gosec // G115: fds are small
	}
	defer func() {
		for fd := range left {
			syscall.Close(int(fd)) // after an error: the loops see EOF and stop
		}
	}()
	var b [1]byte
	for _, fd := range fds {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)} //nolint:gosec // G115: fds are small
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return err
		}
		if _, err := syscall.Write(fd, b[:]); err != nil {
			return err
		}
	}
	events := make([]syscall.EpollEvent, echoConns)
	for len(left) > 0 {
		k, err := syscall.EpollWait(epfd, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range events[:k] {
			fd := int(ev.Fd)
			if m, err := syscall.Read(fd, b[:]); m != 1 || err != nil {
				return fmt.Errorf("peer read: %d, %v", m, err)
			}
			if left[ev.Fd]--; left[ev.Fd] == 0 {
				delete(left, ev.Fd)
				syscall.Close(fd)
				continue
			}
			if _, err := syscall.Write(fd, b[:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// echoRun echoes n round trips on each of echoConns connections to a peer,
// in a child process if child is set, else in a goroutine, with Waits that
// sleep up to raw unseen by the scheduler (rawWaitMax), and returns the CPU time (ns) and context
// switches of this process per round trip.
func echoRun(tb testing.TB, raw time.Duration, n int, child bool) (cpuNs, ctxsw float64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	saved := rawWaitMax
	rawWaitMax = raw
	defer func() { rawWaitMax = saved }()

	var ours, theirs [echoConns]int
	for i := range ours {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			tb.Fatal(err)
		}
		if err := syscall.SetNonblock(fds[0], true); err != nil {
			tb.Fatal(err)
		}
		ours[i] = fds[0]
		closeOnCleanup(tb, fds[0])
		theirs[i] = fds[1] // the peer's to close
	}
	polls := [2]*Poll{newPoll(tb), newPoll(tb)}
	for i, fd := range ours {
		register(tb, polls[i%2], fd, Token(fd), Readable|EdgeTriggered) //nolint:gosec // G115: fds are small
	}
	peerErr := make(chan error, 1)
	var out bytes.Buffer
	if child {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEchoPeer$") //nolint:gosec // G204: this test binary
		cmd.Env = append(os.Environ(), echoPeerEnv+"="+strconv.Itoa(n))
		for _, fd := range theirs {
			cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(fd), "peer")) //nolint:gosec // G115: fds are small
		}
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Start()
		for _, f := range cmd.ExtraFiles {
			f.Close() // the child has them; the loops see EOF when it closes them
		}
		if err != nil {
			tb.Fatal(err)
		}
		go func() { peerErr <- cmd.Wait() }()
	} else {
		go func() { peerErr <- echoPeer(theirs[:], n) }()
	}

	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		tb.Fatal(err)
	}
	if b, ok := tb.(*testing.B); ok {
		b.ResetTimer()
	}
	var wg sync.WaitGroup
	trips := make([]int, 2)
	errs := make([]error, 2)
	for l, p := range polls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trips[l], errs[l] = echoLoop(p, echoConns/2)
		}()
	}
	wg.Wait()
	if b, ok := tb.(*testing.B); ok {
		b.StopTimer()
	}
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		tb.Fatal(err)
	}
	if err := <-peerErr; err != nil {
		tb.Fatalf("echo peer: %v\n%s", err, out.Bytes())
	}
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	if got := trips[0] + trips[1]; got != echoConns*n {
		tb.Fatalf("raw=%v: %d round trips, want %d", raw, got, echoConns*n)
	}
	total := float64(echoConns * n)
	cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
	return float64(cpu) / total, float64(after.Nvcsw+after.Nivcsw-before.Nvcsw-before.Nivcsw) / total
}

// echoLoop echoes what arrives on p's connections until conns of them have
// reached EOF, and returns the bytes echoed.
func echoLoop(p *Poll, conns int) (int, error) {
	events := make([]Event, 64)
	var buf [64]byte
	echoed := 0
	for conns > 0 {
		var err error
		if events, err = p.Wait(events, Forever); err != nil {
			return echoed, err
		}
		for _, ev := range events {
			fd := uintptr(ev.Token())
			n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
			switch {
			case errno == syscall.EAGAIN:
				continue
			case errno != 0:
				return echoed, errno
			case n == 0:
				conns--
				if err := p.Registry().Deregister(int(fd)); err != nil { //nolint:gosec // G115: fds are small
					return echoed, err
				}
				continue
			}
			if w, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&buf[0])), n); errno != 0 || w != n {
				return echoed, syscall.EIO
			}
			echoed += int(n)
		}
	}
	return echoed, nil
}

// BenchmarkLifetime is where Wait(0)'s floor lies once Close's guarantee
// is kept, all in one process: impl=raw is the bare epoll_pwait on one
// ready fd; impl=guarded the same call between the lifetime's acquire and
// release, the least a Wait can do that Close can never close the fd
// under; impl=wait is Wait(events, 0); impl=acquire+release the two atomic
// adds alone. impl=add-before and impl=add-after put one atomic add before
// or after the bare call, and impl=store-after an atomic store after it:
// whatever the lifetime's design, a Wait must write after its call that
// it has left, and on amd64 Go's atomic stores are locked exchanges too.
// The order rotates with BENCH_ROUND, as in bench/. BENCHMARKS.md compares
// them.
func BenchmarkLifetime(b *testing.B) {
	impls := []string{"raw", "guarded", "wait", "acquire+release", "add-before", "add-after", "store-after"}
	r, _ := strconv.Atoi(os.Getenv("BENCH_ROUND"))
	for i := range impls {
		impl := impls[(i+r)%len(impls)]
		b.Run("impl="+impl, func(b *testing.B) {
			p := newPoll(b)
			rfd, w := pipe(b)
			register(b, p, rfd, 1, Readable)
			write(b, w, "x")
			events := make([]Event, 0, 8)
			epfd := uintptr(p.registry.epfd)
			l := &p.registry.life
			var word atomic.Uint64 // the one word add- and store- write
			b.ResetTimer()
			for range b.N { // not b.Loop: go.mod says go 1.23
				var n int
				switch impl {
				case "raw":
					n = bareWait(epfd, events)
				case "guarded":
					if !l.acquire() {
						b.Fatal("closed")
					}
					n = bareWait(epfd, events)
					if l.release() {
						b.Fatal("closed")
					}
				case "wait":
					events, _ = p.Wait(events, 0)
					n = len(events)
				case "add-before":
					word.Add(1)
					n = bareWait(epfd, events)
				case "add-after":
					n = bareWait(epfd, events)
					word.Add(1)
				case "store-after":
					n = bareWait(epfd, events)
					word.Store(uint64(n))
				case "acquire+release":
					if !l.acquire() || l.release() {
						b.Fatal("closed")
					}
					n = 1
				}
				if n != 1 {
					b.Fatalf("%s: %d events", impl, n)
				}
			}
		})
	}
}

// bareWait is BenchmarkLifetime's bare call: epoll_pwait with a zero
// timeout into events' capacity, nothing around it. It is small enough to
// be inlined, so every variant makes the call as Wait does.
func bareWait(epfd uintptr, events []Event) int {
	n, _, _ := syscall.RawSyscall6(sysEpollPwait, epfd, uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(cap(events)), 0, 0, 0)
	return int(n)
}
