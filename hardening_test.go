package epoll

// Hardening: the package under signal storms, Close racing every other call,
// and bad input. By default each test runs a bounded version that takes a
// fraction of a second; -hardening.long runs the sizes RELIABILITY.md reports.

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

var longRun = flag.Bool("hardening.long", false, "run the hardening tests at the sizes RELIABILITY.md reports (minutes, not seconds)")

// size is bounded for CI and full with -hardening.long.
func size(bounded, full int) int {
	if *longRun {
		return full
	}
	return bounded
}

// emulator names the user-mode emulator running this binary, or is "" when
// it runs natively. qemu-user shows the guest binary as /proc/self/exe but
// not as /proc/thread-self/exe, which still names qemu itself.
func emulator() string {
	self, err1 := os.Readlink("/proc/self/exe")
	thread, err2 := os.Readlink("/proc/thread-self/exe")
	if err1 != nil || err2 != nil || self == thread {
		return ""
	}
	return filepath.Base(thread)
}

func kernelRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "unknown"
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// emulatorLacks reports whether err is the ENOSYS of an emulator that does
// not implement the system call name. Natively ENOSYS fails the test: every
// call used here predates the kernels this package supports.
func emulatorLacks(t *testing.T, name string, err error) bool {
	t.Helper()
	if !errors.Is(err, syscall.ENOSYS) {
		return false
	}
	emu := emulator()
	if emu == "" {
		t.Fatalf("%s: ENOSYS natively (kernel %s)", name, kernelRelease())
	}
	t.Logf("%s: %s answers ENOSYS: the emulator does not implement it (the host kernel %s does); its readiness is untested here", name, emu, kernelRelease())
	return true
}

// percentiles formats the p50, p90, p99 and maximum of ds, which it sorts.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	slices.Sort(ds)
	at := func(p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
	return fmt.Sprintf("p50 %v, p90 %v, p99 %v, max %v", at(0.50), at(0.90), at(0.99), ds[len(ds)-1])
}

// fdCount counts open fds once the runtime's poller exists: the first timer
// opens its epoll fd and eventfd, which would otherwise look like a leak.
func fdCount(t *testing.T) int {
	time.AfterFunc(time.Hour, func() {}).Stop()
	return countFds(t)
}

func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// ---- signal storm ----

// A thread that waits with a timeout while another thread signals it every
// ~50 µs: the signals interrupt epoll_pwait(2) with EINTR, which Wait must
// retry against the original deadline. No Wait may fail, return early or
// report an event (nothing registered is ever ready).
//
// Every Wait goes straight to the blocking call here (rawWaitMax = 0):
// that is the call Wait retries, and the one a raw first wait interrupted
// by a signal moves on to. On amd64 signals interrupt the raw wait as well
// (with the default, 997 and 1,000 of 1,000 Waits were); on CI's emulated mips
// kernels none of 10,000 was, so that this test, which must see EINTRs,
// could not run there on the raw wait.
func TestHardeningSignalStorm(t *testing.T) {
	blockingCallsOnly(t)
	handled := make(chan os.Signal, 128)
	signal.Notify(handled, syscall.SIGUSR1)
	defer signal.Stop(handled)
	var nHandled atomic.Int64
	stopDrain := make(chan struct{})
	defer close(stopDrain)
	go func() {
		for {
			select {
			case <-handled:
				nHandled.Add(1)
			case <-stopDrain:
				return
			}
		}
	}()

	waits := size(1000, 10000)
	const timeout = 500 * time.Microsecond
	intervals := []time.Duration{50 * time.Microsecond}
	if *longRun {
		intervals = append(intervals, 0) // 0: no signals, the baseline
	}
	for _, interval := range intervals {
		name := "storm"
		if interval == 0 {
			name = "quiet"
		}
		t.Run(name, func(t *testing.T) {
			forEachWaitPath(t, func(t *testing.T) {
				handledBefore := nHandled.Load()
				s := signalStorm(t, waits, timeout, interval)
				call := "epoll_pwait2"
				if pwait2Missing.Load() {
					call = "epoll_pwait (whole ms)"
				}
				signals := "no signals"
				if s.sent > 0 {
					signals = fmt.Sprintf("%d signals sent (one per %v on average), %d SIGUSR1 handled",
						s.sent, (s.elapsed / time.Duration(s.sent)).Round(100*time.Nanosecond), nHandled.Load()-handledBefore)
				}
				t.Logf("%d Waits(%v) in %s, %s, %d EINTRs retried, %d Waits interrupted at least once; overshoot %s",
					s.waits, timeout, call, signals, s.eintrs, s.interrupted, percentiles(s.overshoot))
				if s.failed != nil {
					t.Errorf("%d of %d Waits failed; the first: %v", s.failures, s.waits, s.failed)
				}
				if s.early != 0 {
					t.Errorf("%d of %d Waits returned before their %v timeout; the earliest after %v", s.early, s.waits, timeout, s.earliest)
				}
				if s.events != 0 {
					t.Errorf("%d events reported, none expected", s.events)
				}
				if interval > 0 && s.eintrs == 0 {
					t.Errorf("%d signals sent during %d Waits but none was interrupted: the test did not test", s.sent, s.waits)
				}
			})
		})
	}
}

type stormResult struct {
	waits           int // made: at least the number asked for
	overshoot       []time.Duration
	elapsed         time.Duration
	sent, eintrs    uint64
	failures, early int
	interrupted     int // Waits that retried after EINTR at least once
	events          int
	failed          error
	earliest        time.Duration
}

func signalStorm(t *testing.T, waits int, timeout, interval time.Duration) stormResult {
	p := newPoll(t)
	r, _ := pipe(t)
	register(t, p, r, 1, Readable) // never written: never ready
	res := stormResult{overshoot: make([]time.Duration, 0, waits), earliest: timeout}
	eintrBefore := eintrRetries.Load()
	start := make(chan struct{})
	stop := make(chan struct{})
	tid, done := lockedThread(func() {
		defer close(stop)
		<-start
		events := make([]Event, 4)
		var err error
		// Past the planned Waits, go on until one was interrupted, up
		// to ten times as many: the signals come at a pace set by the
		// clock, and a slow or loaded machine may run many Waits
		// between two of them.
		for i := 0; i < waits || interval > 0 && res.interrupted == 0 && i < 10*waits; i++ {
			res.waits++
			retries := eintrRetries.Load()
			begin := time.Now()
			events, err = p.Wait(events, timeout)
			elapsed := time.Since(begin)
			if eintrRetries.Load() != retries {
				res.interrupted++
			}
			res.events += len(events)
			if err != nil {
				if res.failed == nil {
					res.failed = err
				}
				res.failures++
				continue
			}
			if elapsed < timeout {
				res.early++
				res.earliest = min(res.earliest, elapsed)
			}
			res.overshoot = append(res.overshoot, elapsed-timeout)
		}
	})
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		close(start)
		if interval == 0 {
			return
		}
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		// Without this the kernel may add 50 µs of slack to every sleep.
		const prSetTimerslack = 29
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1, 0); errno != 0 {
			t.Error(errno)
		}
		pid := os.Getpid()
		next := time.Now()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			sig := syscall.SIGURG // the runtime's own preemption signal
			if i%2 == 1 {
				sig = syscall.SIGUSR1 // relayed to a signal.Notify channel
			}
			if err := syscall.Tgkill(pid, tid, sig); err != nil {
				t.Errorf("tgkill: %v", err)
				return
			}
			res.sent++
			next = next.Add(interval)
			if d := time.Until(next); d < -interval {
				next = time.Now() // late: no burst to catch up
			} else if d > 0 {
				pause := syscall.NsecToTimespec(d.Nanoseconds())
				_ = syscall.Nanosleep(&pause, nil) // EINTR only shortens a pause
			}
		}
	}()
	began := time.Now()
	<-done
	<-senderDone
	res.elapsed = time.Since(began)
	res.eintrs = eintrRetries.Load() - eintrBefore
	return res
}

// ---- Close racing every other call ----

// Each round starts one goroutine per operation, each calling it in a loop
// on its own fd, then closes the Poll (and, every other round, the Waker)
// while they run. Each loop must end with ErrClosed, never with another
// error: EBADF or EINVAL would mean a call reached the epoll fd after Close
// released it. Right after Close the round opens a new Poll, which usually
// gets the old fd numbers; a call that slipped through would register into
// it, which the round checks.
func TestHardeningCloseRace(t *testing.T) {
	rounds := size(300, 100000)
	before := fdCount(t)
	var fds [3]int
	for i := range fds {
		fd, err := newEventfd()
		if err != nil {
			t.Fatal(err)
		}
		fds[i] = fd
	}
	var st closeRaceStats
	start := time.Now()
	// Past the planned rounds, go on until each case the test is for has
	// happened, up to ten times as many: which happens depends on the
	// scheduler and the machine's speed, not on the round count.
	round := 0
	for ; (round < rounds || (st.waitsInFlight == 0 || st.reused == 0) && round < 10*rounds) && !t.Failed(); round++ {
		closeRaceRound(t, round, fds, &st)
	}
	t.Logf("%d rounds in %v: %d calls raced Close; in %d rounds a Wait had begun before Close did; the new Poll reused the closed epoll fd number in %d rounds",
		round, time.Since(start).Round(time.Millisecond), st.calls, st.waitsInFlight, st.reused)
	if st.waitsInFlight == 0 || st.reused == 0 {
		t.Errorf("no round had a Wait in flight at Close (%d) or reused the fd number (%d): the test did not test", st.waitsInFlight, st.reused)
	}
	for _, fd := range fds {
		syscall.Close(fd)
	}
	if after := fdCount(t); after != before {
		t.Errorf("%d fds open before, %d after", before, after)
	}
}

type closeRaceStats struct {
	calls, waitsInFlight, reused int
}

type racerResult struct {
	name      string
	err       error
	calls     int
	lastBegan int64 // the clock when the call that failed began
	wantOp    string
}

func closeRaceRound(t *testing.T, round int, fds [3]int, st *closeRaceStats) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	reg := p.Registry()
	wk, err := NewWaker(reg, 1)
	if err != nil {
		t.Fatal(err)
	}
	register(t, p, fds[1], 3, Readable)
	register(t, p, fds[2], 4, Readable)
	epfd := p.registry.epfd

	var clock atomic.Int64
	results := make(chan racerResult, 8)
	var started sync.WaitGroup
	racer := func(name, wantOp string, call func(i int) error) {
		started.Add(1)
		go func() {
			for i := 0; ; i++ {
				began := clock.Add(1)
				if i == 0 {
					started.Done()
				}
				err := call(i)
				if err != nil {
					results <- racerResult{name, err, i + 1, began, wantOp}
					return
				}
				// Busy loops would starve the goroutines coming back from
				// a blocking system call, slowing every round to the
				// scheduler's 10 ms time slices.
				runtime.Gosched()
			}
		}()
	}
	events := make([]Event, 8)
	racer("Wait", "wait", func(int) error {
		var err error
		events, err = p.Wait(events, Forever)
		return err
	})
	racer("Wake", "wake", func(int) error { return wk.Wake() })
	racer("Register+Deregister", "", func(int) error {
		if err := reg.Register(fds[0], 2, Readable|EdgeTriggered); err != nil {
			return err
		}
		return reg.Deregister(fds[0])
	})
	racer("Reregister", "reregister", func(i int) error { return reg.Reregister(fds[1], Token(i), Readable|Interest(i%2)*Oneshot) })
	racer("Deregister+Register", "", func(int) error {
		if err := reg.Deregister(fds[2]); err != nil {
			return err
		}
		return reg.Register(fds[2], 4, Readable)
	})
	racers := 5
	started.Wait()
	// Let the racers run for a varying while. Spin rather than sleep or
	// yield, which would queue this goroutine behind five busy ones.
	for until := time.Now().Add(time.Duration(round%8) * 5 * time.Microsecond); time.Now().Before(until); {
	}

	closeBegan := clock.Add(1)
	var wakerClosed chan error
	if round%2 == 1 {
		wakerClosed = make(chan error, 1)
		go func() { wakerClosed <- wk.Close() }()
	}
	if err := p.Close(); err != nil {
		t.Errorf("round %d: Close: %v", round, err)
	}
	// The lowest free numbers go first: the new Poll takes the old ones.
	sentinel, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if sentinel.registry.epfd == epfd {
		st.reused++
	}

	timeout := time.After(30 * time.Second)
	for ; racers > 0; racers-- {
		select {
		case r := <-results:
			st.calls += r.calls
			var opErr *OpError
			if !errors.Is(r.err, ErrClosed) || !errors.As(r.err, &opErr) {
				t.Errorf("round %d: %s ended with %v, want ErrClosed", round, r.name, r.err)
			} else if r.wantOp != "" && opErr.Op != r.wantOp {
				t.Errorf("round %d: %s: error names op %q", round, r.name, opErr.Op)
			}
			if r.name == "Wait" && r.lastBegan < closeBegan {
				st.waitsInFlight++
			}
		case <-timeout:
			t.Fatalf("round %d: %d racers still running 30 s after Close: hang\n%s", round, racers, goroutineDump())
		}
	}
	if wakerClosed != nil {
		if err := <-wakerClosed; err != nil {
			t.Errorf("round %d: Waker.Close racing Poll.Close: %v", round, err)
		}
	}

	// Nothing reached the new Poll: the racers' eventfds are not registered
	// there (Register would be EEXIST had one slipped in).
	for _, fd := range fds {
		if err := sentinel.Registry().Deregister(fd); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("round %d: a call on the closed Poll reached the new one holding its fd number: Deregister(%d) = %v", round, fd, err)
		}
	}
	if err := sentinel.Close(); err != nil {
		t.Fatal(err)
	}

	// Afterwards every call reports ErrClosed, and closing again is a no-op.
	_, waitErr := p.Wait(events, 0)
	_, wakerErr := NewWaker(reg, 9)
	for name, err := range map[string]error{
		"Wait": waitErr, "NewWaker": wakerErr, "Wake": wk.Wake(),
		"Register":   reg.Register(fds[0], 1, Readable),
		"Reregister": reg.Reregister(fds[1], 1, Readable),
		"Deregister": reg.Deregister(fds[2]),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("round %d: %s after Close: %v, want ErrClosed", round, name, err)
		}
	}
	if err := p.Close(); err != nil {
		t.Errorf("round %d: second Close: %v", round, err)
	}
	if err := wk.Close(); err != nil {
		t.Errorf("round %d: Waker.Close after Poll.Close: %v", round, err)
	}
}

// ---- bad input ----

// oPath is O_PATH, 0x200000 on every architecture Go supports on Linux; the
// syscall package declares it for only some of them.
const oPath = 0x200000

// Inputs beyond TestBadInputsGetClearErrors: files without poll support,
// fds that are not open for I/O, fds closed after registering, and interest
// the kernel refuses. Each gets an *OpError naming the op and fd and
// wrapping the kernel's errno, never a panic.
func TestHardeningBadInputs(t *testing.T) {
	p := newPoll(t)
	reg := p.Registry()
	// Opened here, not through os: DupFd refuses a blocking device.
	null, err := syscall.Open("/dev/null", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, null)
	pathFd, err := syscall.Open(t.TempDir(), oPath|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, pathFd)
	inner := newPoll(t)
	r, _ := pipe(t)
	// Registered, then closed: the kernel dropped the registration. The
	// number must stay free until the calls below.
	gone, _ := pipe(t)
	register(t, p, gone, 1, Readable)
	syscall.Close(gone)

	cases := []badInput{
		{"/dev/null", reg.Register(null, 1, Readable), "register", null, syscall.EPERM, "cannot be polled"},
		{"O_PATH fd", reg.Register(pathFd, 1, Readable), "register", pathFd, syscall.EBADF, "not an open file descriptor"},
		{"reregister a closed fd", reg.Reregister(gone, 1, Readable), "reregister", gone, syscall.EBADF, "not an open file descriptor"},
		{"deregister a closed fd", reg.Deregister(gone), "deregister", gone, syscall.EBADF, "not an open file descriptor"},
		{"every interest bit", reg.Register(r, 1, ^Interest(0)), "register", r, syscall.EINVAL, "unknown interest"},
		{"Exclusive with Priority", reg.Register(r, 1, Exclusive|Priority), "register", r, syscall.EINVAL, "Exclusive"},
		{"Exclusive on an epoll fd", reg.Register(inner.registry.epfd, 1, Readable|Exclusive), "register", inner.registry.epfd, syscall.EINVAL, "Exclusive"},
	}
	for _, c := range cases {
		checkOpError(t, c.name, c.err, c.op, c.fd, c.errno, c.says)
	}

	// Timeouts out of the ordinary still return at once when an fd is ready.
	w := eventfd(t)
	register(t, p, w, 2, Readable)
	if err := writeEventfd(w); err != nil {
		t.Fatal(err)
	}
	for _, timeout := range []time.Duration{1, -1, -time.Hour, 1<<63 - 1, -1 << 63} {
		expect(t, fmt.Sprintf("Wait(%d) with a ready fd", timeout), []got{{Token: 2, Readable: true}}, poll(t, p, timeout))
	}
	// A buffer whose len exceeds what the kernel fills is fine: len is ignored.
	events, err := p.Wait(make([]Event, 100), 0)
	if err != nil || len(events) != 1 {
		t.Errorf("Wait with a long buffer: %d events, %v", len(events), err)
	}
}

// guarded runs f, turning a panic or a hang into a test failure so that the
// other tests still run.
func guarded(t *testing.T, name string, f func() error) error {
	t.Helper()
	type result struct {
		err      error
		panicked any
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{panicked: v}
			}
		}()
		done <- result{err: f()}
	}()
	select {
	case r := <-done:
		if r.panicked != nil {
			t.Errorf("%s panicked: %v", name, r.panicked)
		}
		return r.err
	case <-time.After(30 * time.Second): // only a hang takes this long, even emulated
		t.Errorf("%s hung for 30 s", name)
		return nil
	}
}

// moveToFd0 makes fd 0 a descriptor of fd's file until the test ends.
func moveToFd0(t *testing.T, fd int) {
	t.Helper()
	saved, err := syscall.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup3(fd, 0, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := syscall.Dup3(saved, 0, 0); err != nil {
			t.Error(err)
		}
		syscall.Close(saved)
	})
}

// A Poll, Registry or Waker that New or NewWaker did not make (a zero
// value, perhaps a struct field never set) must act as closed, as the zero
// os.File reports ErrInvalid. Its fd fields are 0, and fd 0 is somebody
// else's file: here another epoll instance, then an eventfd, so that any
// call reaching it shows.
func TestHardeningZeroValues(t *testing.T) {
	victim := newPoll(t)
	moveToFd0(t, victim.registry.epfd)
	r, w := pipe(t)
	write(t, w, "x")
	var p Poll
	var reg Registry
	var wk Waker
	calls := []struct {
		name string
		f    func() error
	}{
		{"Poll.Registry().Register", func() error { return p.Registry().Register(r, 1, Readable) }},
		{"Registry.Register", func() error { return reg.Register(r, 2, Readable) }},
		{"Registry.Reregister", func() error { return reg.Reregister(r, 3, Readable) }},
		{"Poll.Wait", func() error { _, err := p.Wait(make([]Event, 1), 0); return err }},
		{"NewWaker", func() error { _, err := NewWaker(&reg, 4); return err }},
		{"Waker.Wake", func() error { return wk.Wake() }},
	}
	for _, c := range calls {
		if err := guarded(t, c.name, c.f); !errors.Is(err, ErrClosed) {
			t.Errorf("%s on a zero value: %v, want ErrClosed", c.name, err)
		}
	}
	expect(t, "the epoll instance at fd 0", nil, poll(t, victim, 0))
	// They name fd -1, as Fd does, not fd 0, which is not theirs.
	_, waitErr := p.Wait(make([]Event, 1), 0)
	for name, err := range map[string]error{"Poll.Wait": waitErr, "Waker.Wake": wk.Wake()} {
		var opErr *OpError
		if !errors.As(err, &opErr) || opErr.Fd != -1 {
			t.Errorf("%s on a zero value: %v, want an *OpError naming fd -1", name, err)
		}
	}
	if err := reg.Deregister(r); !errors.Is(err, ErrClosed) {
		t.Errorf("Registry.Deregister on a zero value: %v, want ErrClosed", err)
	}

	efd := eventfd(t)
	moveToFd0(t, efd)
	if err := guarded(t, "Poll.Close", p.Close); err != nil {
		t.Errorf("Poll.Close on a zero value: %v, want nil", err)
	}
	if err := guarded(t, "Waker.Close", wk.Close); err != nil {
		t.Errorf("Waker.Close on a zero value: %v, want nil", err)
	}
	var count [8]byte
	if _, err := syscall.Read(0, count[:]); err != syscall.EAGAIN {
		t.Errorf("zero Poll.Close wrote to or closed fd 0: read fd 0: %v", err)
	}
}

// A caller holding a stale fd number can hold the number of the Poll's own
// eventfd, the one Close writes to wake a blocked Wait. Changing its
// registration must be refused, as for any fd that is not the caller's:
// once it is deregistered, Close waits forever for the Wait it cannot wake.
func TestHardeningPollsOwnFd(t *testing.T) {
	p := newPoll(t)
	reg := p.Registry()
	own := p.registry.closeFd
	checkOpError(t, "Register", reg.Register(own, 1, Readable), "register", own, syscall.EBADF, "the Poll's own eventfd")
	checkOpError(t, "Reregister", reg.Reregister(own, 1, Writable|Oneshot), "reregister", own, syscall.EBADF, "the Poll's own eventfd")
	checkOpError(t, "Deregister", reg.Deregister(own), "deregister", own, syscall.EBADF, "the Poll's own eventfd")

	var err error
	tid, done := lockedThread(func() { _, err = p.Wait(make([]Event, 4), Forever) })
	waitBlocked(t, tid)
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // only a hang takes this long, even emulated
		// Put the eventfd back so that Close and the test can finish.
		ev := makeEvent(epollIn, 0)
		// Best effort, on a test that has failed: one of the two applies.
		_, _, _ = syscall.RawSyscall6(sysEpollCtl, uintptr(p.registry.epfd), epollCtlAdd, uintptr(own), uintptr(unsafe.Pointer(&ev)), 0, 0)
		_, _, _ = syscall.RawSyscall6(sysEpollCtl, uintptr(p.registry.epfd), epollCtlMod, uintptr(own), uintptr(unsafe.Pointer(&ev)), 0, 0)
		<-done
		t.Errorf("Close hung for 30 s with a Wait blocked, after calls on the Poll's own fd")
	}
	if cerr := <-closed; cerr != nil {
		t.Error(cerr)
	}
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Wait interrupted by Close: %v, want ErrClosed", err)
	}
}
