package epoll

// The four defects of issue 23, each shown by a test that fails without its
// fix: DupFd changing the caller's file, Close trusting the number of its own
// eventfd, a raw close of an epoll fd stalling GC, and SetBusyPoll checking
// its arguments before Close.

import (
	"errors"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// flFlags returns fd's file status flags (F_GETFL).
func flFlags(t *testing.T, fd int) int {
	t.Helper()
	flags, errno := fcntl(fd, syscall.F_GETFL, 0)
	if errno != 0 {
		t.Fatalf("F_GETFL fd %d: %v", fd, errno)
	}
	return flags
}

// setBlocking clears O_NONBLOCK on a file description the test owns alone.
func setBlocking(t *testing.T, fd int) {
	t.Helper()
	if _, errno := fcntl(fd, syscall.F_SETFL, flFlags(t, fd)&^syscall.O_NONBLOCK); errno != 0 {
		t.Fatal(errno)
	}
}

// fdOf returns the number c's Control hands out, for naming in errors.
func fdOf(t *testing.T, c syscall.Conn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		t.Fatal(err)
	}
	return fd
}

// blockingFile wraps fd, which must be blocking, in an *os.File: os.NewFile
// leaves a blocking fd blocking and out of Go's netpoller.
func blockingFile(t *testing.T, fd int, name string) *os.File {
	t.Helper()
	if flFlags(t, fd)&syscall.O_NONBLOCK != 0 {
		t.Fatalf("%s: fd %d is non-blocking already", name, fd)
	}
	f := os.NewFile(uintptr(fd), name)
	t.Cleanup(func() { f.Close() })
	return f
}

// blockedOrDone waits until thread tid sleeps in a pipe's read (true) or
// done is closed (false), the thread's call having returned without
// blocking. Any sleep would not do: the thread also sleeps handing its tid
// over, before its read has begun.
func blockedOrDone(t *testing.T, tid int, done chan struct{}) bool {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		select {
		case <-done:
			return false
		default:
		}
		// pipe_read, anon_pipe_read from Linux 6.16.
		if sleepsIn(t, tid, "pipe_read", "anon_pipe_read") {
			return true
		}
	}
	t.Fatalf("thread %d neither blocked nor returned in 30 s", tid)
	return false
}

// checkOwnNonblocking checks what DupFd promises for a file it reopens or
// dups: a new, close-on-exec, non-blocking fd, with c's own file left as
// it was (its O_NONBLOCK flag included) once the new fd is closed.
func checkOwnNonblocking(t *testing.T, c syscall.Conn, private bool) int {
	t.Helper()
	orig := fdOf(t, c)
	before := flFlags(t, orig)
	fd, err := DupFd(c)
	if err != nil {
		t.Fatalf("DupFd: %v", err)
	}
	closeOnCleanup(t, fd)
	fdFlags, errno := fcntl(fd, syscall.F_GETFD, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	if fd == orig || fdFlags&syscall.FD_CLOEXEC == 0 || flFlags(t, fd)&syscall.O_NONBLOCK == 0 {
		t.Errorf("DupFd = %d (original %d), flags %#x: want another number, close-on-exec and non-blocking", fd, orig, flFlags(t, fd))
	}
	if after := flFlags(t, orig); after != before {
		t.Errorf("DupFd changed the caller's file: F_GETFL %#x, was %#x", after, before)
	}
	if private && flFlags(t, fd)&syscall.O_ACCMODE != before&syscall.O_ACCMODE {
		t.Errorf("access mode %#x, the caller's is %#x", flFlags(t, fd)&syscall.O_ACCMODE, before&syscall.O_ACCMODE)
	}
	return fd
}

// The reproduction: DupFd of a blocking pipe wrapped by os.NewFile
// used to set O_NONBLOCK on the open file description it shares with the
// caller's file, so that f.Read failed with EAGAIN instead of blocking,
// for good. Each kind of fd the doc names gets what it promises.
func TestDupFdLeavesTheCallersFileAlone(t *testing.T) {
	t.Run("pipe from os.NewFile", func(t *testing.T) {
		var fds [2]int
		if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		f := blockingFile(t, fds[0], "r")
		w := os.NewFile(uintptr(fds[1]), "w")
		defer w.Close()

		fd := checkOwnNonblocking(t, f, true)
		// The same pipe: what is written is read through fd.
		p := newPoll(t)
		register(t, p, fd, 1, Readable)
		if _, err := w.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if evs, err := p.Wait(make([]Event, 4), Forever); err != nil || len(evs) != 1 || evs[0].Token() != 1 {
			t.Fatalf("Wait: %v, %v; want token 1 readable", evs, err)
		}
		readAll(t, fd, "x")
		if _, err := syscall.Read(fd, make([]byte, 1)); err != syscall.EAGAIN {
			t.Errorf("read of the empty pipe through DupFd's fd: %v, want EAGAIN", err)
		}
		if err := p.Registry().Deregister(fd); err != nil {
			t.Fatal(err)
		}
		syscall.Close(fd)

		// The caller's file still blocks until a byte comes.
		var n int
		var readErr error
		tid, done := lockedThread(func() { n, readErr = f.Read(make([]byte, 1)) })
		if !blockedOrDone(t, tid, done) {
			t.Fatalf("f.Read on the empty pipe returned %d, %v at once, want it to block", n, readErr)
		}
		if _, err := w.Write([]byte("y")); err != nil {
			t.Fatal(err)
		}
		<-done
		if n != 1 || readErr != nil {
			t.Errorf("f.Read after the write: %d, %v", n, readErr)
		}
	})

	t.Run("pipe write end", func(t *testing.T) {
		var fds [2]int
		if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		closeOnCleanup(t, fds[0])
		fd := checkOwnNonblocking(t, blockingFile(t, fds[1], "w"), true)
		write(t, fd, "z")
		readAll(t, fds[0], "z")
	})

	t.Run("FIFO", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		// O_RDWR: a FIFO opened so does not wait for a peer. os.OpenFile
		// would make it non-blocking; syscall.Open does not.
		raw, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		f := blockingFile(t, raw, "fifo")
		fd := checkOwnNonblocking(t, f, true)
		if _, err := f.Write([]byte("f")); err != nil {
			t.Fatal(err)
		}
		readAll(t, fd, "f")
	})

	t.Run("pty slave", func(t *testing.T) {
		master, slave := openPty(t)
		setBlocking(t, slave)
		s, err := syscall.Dup(slave) // os.NewFile's to close
		if err != nil {
			t.Fatal(err)
		}
		fd := checkOwnNonblocking(t, blockingFile(t, s, "pts"), true)
		// Reads and writes reach the same terminal.
		write(t, fd, "out")
		readAll(t, master, "out")
	})

	t.Run("socket from net", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		fd := checkOwnNonblocking(t, ln.(*net.TCPListener), false)
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		p := newPoll(t)
		register(t, p, fd, 1, Readable)
		if _, err := p.Wait(make([]Event, 1), Forever); err != nil {
			t.Fatal(err)
		}
		conn, _, err := syscall.Accept4(fd, syscall.SOCK_CLOEXEC)
		if err != nil {
			t.Fatalf("accept on the dup: %v", err)
		}
		syscall.Close(conn)
	})

	t.Run("regular file", func(t *testing.T) {
		f, err := os.Create(filepath.Join(t.TempDir(), "regular"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		orig := fdOf(t, f)
		before := flFlags(t, orig)
		fd, err := DupFd(f)
		if err != nil {
			t.Fatal(err)
		}
		closeOnCleanup(t, fd)
		if after, dup := flFlags(t, orig), flFlags(t, fd); after != before || dup != before {
			t.Errorf("F_GETFL: the caller's %#x (was %#x), the dup's %#x: want a plain dup, nothing changed", after, before, dup)
		}
		checkOpError(t, "Register", newPoll(t).Registry().Register(fd, 1, Readable), "register", fd, syscall.EPERM, "cannot be polled")
	})

	// The files it cannot help: an error that names the fd and says why,
	// no fd made, and the caller's flag unflipped.
	refused := func(t *testing.T, c syscall.Conn, says string) {
		t.Helper()
		orig := fdOf(t, c)
		before, fds := flFlags(t, orig), countFds(t)
		fd, err := DupFd(c)
		if fd != -1 {
			syscall.Close(fd)
			t.Errorf("DupFd = %d, want -1", fd)
		}
		checkOpError(t, "DupFd", err, "dup", orig, syscall.EOPNOTSUPP, says)
		if after := flFlags(t, orig); after != before {
			t.Errorf("DupFd changed the caller's file: F_GETFL %#x, was %#x", after, before)
		}
		if n := countFds(t); n != fds {
			t.Errorf("%d fds open after the refusal, %d before", n, fds)
		}
	}
	t.Run("blocking socket", func(t *testing.T) {
		s, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		refused(t, blockingFile(t, s, "socket"), "blocking socket")
	})
	t.Run("TCPListener.File after Fd", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.Fd() // the trap: the file description is blocking from now on
		refused(t, f, "blocking socket")
	})
	t.Run("pty master", func(t *testing.T) {
		master, _ := openPty(t)
		setBlocking(t, master)
		m, err := syscall.Dup(master)
		if err != nil {
			t.Fatal(err)
		}
		refused(t, blockingFile(t, m, "ptmx"), "pty master")
	})
	t.Run("blocking eventfd", func(t *testing.T) {
		efd, _, errno := syscall.RawSyscall(sysEventfd2, 0, syscall.O_CLOEXEC, 0)
		if errno != 0 {
			t.Fatal(errno)
		}
		refused(t, blockingFile(t, int(efd), "eventfd"), "not a pipe, FIFO, terminal or socket")
	})
}

// Code closing a stale fd number closes the Poll's own eventfd, and a new
// eventfd takes the number. Close must neither write into that eventfd nor
// close it, must still end a Wait blocked with Forever, and must say what
// happened; and until then the number is the caller's to register. Before
// the fix Close wrote 8 bytes into the foreign eventfd, hung with the Wait
// unwoken, and the Register was refused as stale.
func TestCloseLeavesItsReusedEventfdNumberAlone(t *testing.T) {
	for _, registerFirst := range []bool{false, true} {
		t.Run("registerFirst="+strconv.FormatBool(registerFirst), func(t *testing.T) {
			p, err := New()
			if err != nil {
				t.Fatal(err)
			}
			epfd, own := p.registry.epfd, p.registry.closeFd
			var waitErr error
			tid, done := lockedThread(func() { _, waitErr = p.Wait(make([]Event, 4), Forever) })
			waitBlocked(t, tid)

			syscall.Close(own) // the stray close
			efd, err := newEventfd()
			if err != nil {
				t.Fatal(err)
			}
			if efd != own { // it usually gets the lowest free number, own
				if err := syscall.Dup3(efd, own, syscall.O_CLOEXEC); err != nil {
					t.Fatal(err)
				}
				syscall.Close(efd)
			}
			foreign := own // the number, now naming the new eventfd
			closeOnCleanup(t, foreign)

			if registerFirst {
				if err := p.Registry().Register(foreign, 9, Readable); err != nil {
					t.Errorf("Register of fd %d, reused by a new file: %v, want nil", foreign, err)
				}
			}
			closed := make(chan error, 1)
			go func() { closed <- p.Close() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second): // only a hang takes this long, even emulated
				// Register the foreign eventfd, readable if Close wrote to
				// it, so that the Wait returns and the test can finish.
				ev := makeEvent(epollIn, 0)
				_, _, _ = syscall.RawSyscall6(sysEpollCtl, uintptr(epfd), epollCtlAdd, uintptr(foreign), uintptr(unsafe.Pointer(&ev)), 0, 0)
				<-done
				t.Error("a Wait blocked with Forever was still blocked 30 s after Close")
			}
			checkOpError(t, "Close", <-closed, "close", foreign, syscall.ENOENT, "reused by another file")
			if !errors.Is(waitErr, ErrClosed) {
				t.Errorf("Wait ended by Close: %v, want ErrClosed", waitErr)
			}
			var count uint64
			if !fdOpen(foreign) {
				t.Errorf("Close closed fd %d, which names another file now", foreign)
			} else if _, _, errno := syscall.RawSyscall(sysRead, uintptr(foreign), uintptr(unsafe.Pointer(&count)), 8); errno != syscall.EAGAIN {
				t.Errorf("the foreign eventfd: read %d, %v; want EAGAIN: Close wrote into it", count, errno)
			}
			if fdOpen(epfd) {
				t.Errorf("epoll fd %d still open after Close", epfd)
			}
			if err := p.Close(); err != nil {
				t.Errorf("second Close: %v, want nil", err)
			}
		})
	}
}

// stopHistogram returns the GC stop-the-world "stopping" latencies so far:
// the time from a stop's start until every P has stopped.
func stopHistogram(t *testing.T) *metrics.Float64Histogram {
	t.Helper()
	s := []metrics.Sample{{Name: "/sched/pauses/stopping/gc:seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		t.Fatalf("%s: kind %v, want a histogram", s[0].Name, s[0].Value.Kind())
	}
	h := s[0].Value.Float64Histogram()
	return &metrics.Float64Histogram{Counts: slices.Clone(h.Counts), Buckets: h.Buckets}
}

// worstSince returns the lower bound of the highest bucket that gained a
// count between two readings: at least that long was the worst stop.
func worstSince(before, after *metrics.Float64Histogram) time.Duration {
	for i := len(after.Counts) - 1; i >= 0; i-- {
		if after.Counts[i] > before.Counts[i] {
			return time.Duration(max(0, after.Buckets[i]) * float64(time.Second))
		}
	}
	return 0
}

// A Close of an epoll fd with 20,000 registrations, with a runtime.GC()
// beside it: the kernel tears every registration down in close, for
// milliseconds. Made with RawSyscall, the close hid that from the runtime,
// so the GC's stop of the world waited for the rest of it; made with
// Syscall, the thread's P is taken at once. The GC starts once the epoll
// fd's number is gone from the fd table, which close(2) does before the
// teardown, so it meets the teardown whatever the machine's speed. Each
// round compares the worst GC stopping latency with the Close's own
// duration: with a raw close it is most of the Close (the histogram's
// bucket gives a lower bound, within a factor of 1.25 to 2); it must be
// under an eighth of it in most rounds. It is microseconds with the fix,
// but on a loaded machine a stop can wait milliseconds for a descheduled
// thread in any round: hence the majority.
func TestCloseLetsGCStopTheWorld(t *testing.T) {
	const regs, rounds, attempts = 20000, 5, 12
	n := min(fdRoom(t, regs+64), regs)
	if n < 2000 {
		t.Fatalf("room for %d fds only: the test needs thousands of registrations", n)
	}
	// A second P, so that the GC and the Close run at once.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	efd := eventfd(t)
	dups := make([]int, n)
	for i := range dups {
		d, err := syscall.Dup(efd)
		if err != nil {
			t.Fatal(err)
		}
		dups[i] = d
	}
	closeOnCleanup(t, dups...)

	met, slow := 0, 0
	for attempt := 0; attempt < attempts && met < rounds; attempt++ {
		p, err := New()
		if err != nil {
			t.Fatal(err)
		}
		epfd := p.registry.epfd
		for i, d := range dups {
			register(t, p, d, Token(i), Readable)
		}
		var returned, overlapped atomic.Bool
		watching, gcDone := make(chan struct{}), make(chan struct{})
		before := stopHistogram(t)
		go func() {
			defer close(gcDone)
			close(watching)
			for !returned.Load() {
				if _, errno := fcntl(epfd, syscall.F_GETFD, 0); errno == syscall.EBADF {
					overlapped.Store(!returned.Load())
					runtime.GC()
					return
				}
			}
		}()
		<-watching
		begin := time.Now()
		err = p.Close()
		took := time.Since(begin)
		returned.Store(true)
		<-gcDone
		if err != nil {
			t.Fatal(err)
		}
		worst := worstSince(before, stopHistogram(t))
		if !overlapped.Load() {
			t.Logf("attempt %d: Close took %v; the GC goroutine did not see it in progress", attempt, took)
			continue
		}
		met++
		if worst >= took/8 {
			slow++
		}
		t.Logf("attempt %d: Close of %d registrations took %v; worst GC stopping latency at least %v", attempt, n, took, worst)
	}
	if met < rounds/2+1 {
		t.Fatalf("in %d attempts the GC met the Close's teardown only %d times", attempts, met)
	}
	if slow > met/2 {
		t.Errorf("in %d of %d rounds a GC waited an eighth of the Close's time or more to stop the world", slow, met)
	}
}

// After Close, and on a zero Poll, SetBusyPoll returns ErrClosed whatever
// its argument, like every other call; before the fix it checked the
// argument first and answered EINVAL, on the zero Poll for "fd 0". A zero
// Poll's errors name fd -1, as its Fd does, not fd 0, which is not its.
func TestSetBusyPollClosedFirst(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	epfd := p.registry.epfd
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	bad := []BusyPoll{
		{Timeout: -1},
		{Budget: -1},
		{Budget: math.MaxUint16 + 1},
		{Timeout: time.Duration(math.MaxInt64)},
		{Timeout: time.Microsecond},
	}
	for _, c := range []struct {
		name string
		p    *Poll
		fd   int
	}{{"closed Poll", p, epfd}, {"zero Poll", &Poll{}, -1}} {
		for _, b := range bad {
			err := c.p.SetBusyPoll(b)
			var opErr *OpError
			if !errors.Is(err, ErrClosed) || errors.Is(err, syscall.EINVAL) || !errors.As(err, &opErr) || opErr.Op != "setbusypoll" || opErr.Fd != c.fd {
				t.Errorf("%s: SetBusyPoll(%+v) = %v, want ErrClosed for setbusypoll fd %d", c.name, b, err, c.fd)
			}
		}
		if _, err := c.p.BusyPoll(); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "busypoll fd "+strconv.Itoa(c.fd)+":") {
			t.Errorf("%s: BusyPoll: %v, want ErrClosed for busypoll fd %d", c.name, err, c.fd)
		}
	}
}

// blockedOrDone must not take a thread that merely sleeps, such as one
// parked on a channel before its read, for one blocked in the read.
func TestBlockedOrDoneNeedsAPipeRead(t *testing.T) {
	gate := make(chan struct{})
	tid, done := lockedThread(func() { <-gate })
	for !threadSleeps(t, tid) {
		time.Sleep(time.Millisecond)
	}
	if sleepsIn(t, tid, "pipe_read", "anon_pipe_read") {
		t.Error("a thread parked on a channel is taken for one blocked in a pipe's read")
	}
	close(gate)
	<-done
}
