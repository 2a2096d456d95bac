package epoll

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/rawpoll/epoll/internal/arch"
)

// ---- helpers ----

func newPoll(t testing.TB) *Poll {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func closeOnCleanup(t testing.TB, fds ...int) {
	t.Cleanup(func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	})
}

func pipe(t testing.TB) (r, w int) {
	t.Helper()
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, p[0], p[1])
	return p[0], p[1]
}

func socketpair(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, fds[0], fds[1])
	return fds[0], fds[1]
}

func eventfd(t testing.TB) int {
	t.Helper()
	fd, err := newEventfd()
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, fd)
	return fd
}

func write(t testing.TB, fd int, s string) {
	t.Helper()
	if _, err := syscall.Write(fd, []byte(s)); err != nil {
		t.Fatalf("write fd %d: %v", fd, err)
	}
}

func drain(t testing.TB, fd int) {
	t.Helper()
	buf := make([]byte, 4096)
	for {
		_, err := syscall.Read(fd, buf)
		if err == syscall.EAGAIN {
			return
		}
		if err != nil && err != syscall.EINTR {
			t.Fatalf("read fd %d: %v", fd, err)
		}
	}
}

// ownedFd returns DupFd's dup of c's fd, closed at cleanup. Not
// (*os.File).Fd(), nor File(): those put the open file description, which c
// shares, into blocking mode (TestFdTrapIsReal).
func ownedFd(t testing.TB, c syscall.Conn) int {
	t.Helper()
	fd, err := DupFd(c)
	if err != nil {
		t.Fatalf("dup of %T's fd: %v", c, err)
	}
	closeOnCleanup(t, fd)
	return fd
}

func register(t testing.TB, p *Poll, fd int, tok Token, i Interest) {
	t.Helper()
	if err := p.Registry().Register(fd, tok, i); err != nil {
		t.Fatal(err)
	}
}

// got is what a test asserts about an event: its token and what it means.
type got struct {
	Token                             Token
	Readable, Writable, Error         bool
	ReadClosed, WriteClosed, Priority bool
}

func summarize(events []Event) []got {
	out := make([]got, 0, len(events))
	for _, e := range events {
		out = append(out, got{e.Token(), e.IsReadable(), e.IsWritable(), e.IsError(), e.IsReadClosed(), e.IsWriteClosed(), e.IsPriority()})
	}
	slices.SortFunc(out, func(a, b got) int { return cmpToken(a.Token, b.Token) })
	return out
}

func cmpToken(a, b Token) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// poll waits once with a fresh buffer and summarizes what came back.
func poll(t testing.TB, p *Poll, timeout time.Duration) []got {
	t.Helper()
	events, err := p.Wait(make([]Event, 0, 64), timeout)
	if err != nil {
		t.Fatal(err)
	}
	return summarize(events)
}

func expect(t testing.TB, what string, want, have []got) {
	t.Helper()
	if want == nil {
		want = []got{}
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("%s: events mismatch (-want +got):\n%s", what, diff)
	}
}

// lockedThread runs f on a goroutine locked to its OS thread and returns
// that thread's id once f has started.
func lockedThread(f func()) (tid int, done chan struct{}) {
	done = make(chan struct{})
	tids := make(chan int)
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tids <- syscall.Gettid()
		f()
	}()
	return <-tids, done
}

// waitBlocked waits until thread tid sleeps in an epoll wait, so that a
// test acts on a Wait that is really blocked, not one that is about to
// start. Sleeping alone proves nothing: the thread also sleeps handing its
// tid over, parked by the scheduler, or in any other call.
func waitBlocked(t testing.TB, tid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if sleepsInEpollWait(t, tid) {
			return
		}
	}
	t.Fatalf("thread %d never blocked in an epoll wait (wchan now %q)", tid, wchan(tid))
}

// sleepsInEpollWait reports whether thread tid sleeps in the kernel's epoll
// wait: ep_poll or, where that is inlined, do_epoll_wait. Under qemu-user
// the host thread makes the host's epoll call, so the answer is the same.
func sleepsInEpollWait(t testing.TB, tid int) bool {
	return sleepsIn(t, tid, "ep_poll", "do_epoll_wait")
}

// sleepsIn reports whether thread tid sleeps (state S) in one of the
// kernel functions named, which its wchan names; false for a thread that
// has exited. A suffix from the compiler's cloning of a function goes: on
// Debian's 6.12 for arm and ppc64le the wait is in "do_epoll_wait.part.0".
func sleepsIn(t testing.TB, tid int, funcs ...string) bool {
	t.Helper()
	name, _, _ := strings.Cut(wchan(tid), ".")
	return threadSleeps(t, tid) && slices.Contains(funcs, name)
}

// wchan is the kernel function thread tid sleeps in, "" if it has exited.
func wchan(tid int) string {
	b, _ := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/wchan")
	return string(b)
}

// blockingCallsOnly sends every Wait straight to the blocking call
// (rawWaitMax = 0) until the test ends.
func blockingCallsOnly(t testing.TB) {
	saved := rawWaitMax
	rawWaitMax = 0
	t.Cleanup(func() { rawWaitMax = saved })
}

// awaitCalls waits until the Waits countWaitCalls counts have made n
// system calls.
func awaitCalls(t testing.TB, calls *atomic.Uint64, n uint64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if calls.Load() >= n {
			return
		}
	}
	t.Fatalf("%d wait calls after 10 s, want %d", calls.Load(), n)
}

func countFds(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// badInput is a call that must fail, and how: the op, fd, errno and a
// phrase the message must contain.
type badInput struct {
	name  string
	err   error
	op    string
	fd    int
	errno syscall.Errno
	says  string
}

func checkOpError(t *testing.T, name string, err error, op string, fd int, errno syscall.Errno, says string) {
	t.Helper()
	var opErr *OpError
	if !errors.As(err, &opErr) {
		t.Errorf("%s: error %v (%T) is not an *OpError", name, err, err)
		return
	}
	if !errors.Is(err, errno) || opErr.Op != op || opErr.Fd != fd {
		t.Errorf("%s: got Op %q Fd %d Err %v, want %q %d %v", name, opErr.Op, opErr.Fd, opErr.Err, op, fd, errno)
	}
	msg := err.Error()
	for _, part := range []string{op, "fd " + strconv.Itoa(fd), errno.Error(), says} {
		if !strings.Contains(msg, part) {
			t.Errorf("%s: message %q does not say %q", name, msg, part)
		}
	}
}

func notPollable(t *testing.T, p *Poll) {
	dir := t.TempDir()
	file, err := os.Create(filepath.Join(dir, "regular"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for name, fd := range map[string]int{"regular file": ownedFd(t, file), "directory": ownedFd(t, d)} {
		checkOpError(t, name, p.Registry().Register(fd, 1, Readable), "register", fd, syscall.EPERM, "cannot be polled")
	}
}

// ---- layout and numbers ----

// The kernel's sizeof(struct epoll_event) and offsetof(data) come from
// internal/arch, written down from include/uapi/linux/eventpoll.h and each
// C ABI.
func TestEventLayout(t *testing.T) {
	a, ok := arch.Lookup(runtime.GOARCH)
	if !ok {
		t.Fatalf("no kernel layout in internal/arch for %s", runtime.GOARCH)
	}
	want := [2]uintptr{uintptr(a.Size), uintptr(a.DataOffset)}
	have := [2]uintptr{unsafe.Sizeof(Event{}), unsafe.Offsetof(Event{}.data)}
	if have != want {
		t.Errorf("Event size/data offset = %v, kernel's is %v", have, want)
	}
	// The standard library's EpollEvent is generated from the C headers;
	// its Fd field sits where data starts.
	std := [2]uintptr{unsafe.Sizeof(syscall.EpollEvent{}), unsafe.Offsetof(syscall.EpollEvent{}.Fd)}
	if have != std {
		t.Errorf("Event size/data offset = %v, syscall.EpollEvent's is %v", have, std)
	}
}

func TestSyscallNumbersMatchStdlib(t *testing.T) {
	have := []uintptr{sysRead, sysWrite, sysClose, sysEpollCtl, sysEpollPwait, sysEventfd2, sysEpollCreate1, sysFcntl, sysIoctl}
	want := []uintptr{syscall.SYS_READ, syscall.SYS_WRITE, syscall.SYS_CLOSE, syscall.SYS_EPOLL_CTL, syscall.SYS_EPOLL_PWAIT, syscall.SYS_EVENTFD2, syscall.SYS_EPOLL_CREATE1, syscall.SYS_FCNTL, syscall.SYS_IOCTL}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("syscall numbers differ from the syscall package's (-std +ours):\n%s", diff)
	}
	// The flags come from the syscall package because they differ by arch
	// (O_NONBLOCK is 0x80 on MIPS, 0x800 elsewhere): the kernel must give
	// them their meaning here, a non-blocking, close-on-exec eventfd.
	fd := eventfd(t)
	var count uint64
	if _, _, errno := syscall.RawSyscall(sysRead, uintptr(fd), uintptr(unsafe.Pointer(&count)), 8); errno != syscall.EAGAIN {
		t.Errorf("read of a fresh eventfd: %v, want EAGAIN (non-blocking)", errno)
	}
	for _, fd := range []int{fd, newPoll(t).registry.epfd} {
		if flags, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); errno != 0 || flags&syscall.FD_CLOEXEC == 0 {
			t.Errorf("fd %d: F_GETFD = %#x, %v; want FD_CLOEXEC", fd, flags, errno)
		}
	}
}

// The syscall package has no SYS_EPOLL_PWAIT2, so the number is proven by
// behaviour: on a ready fd with a zero timeout, it returns that fd's event.
// qemu-user before 11.0 answers ENOSYS; set EPOLL_TEST_REQUIRE_PWAIT2=1 where
// the kernel is known to have it.
func TestEpollPwait2Number(t *testing.T) {
	p := newPoll(t)
	efd := eventfd(t)
	register(t, p, efd, 0x8877665544332211, Readable)
	if err := writeEventfd(efd); err != nil {
		t.Fatal(err)
	}
	events := make([]Event, 4)
	var ts timespec
	n, _, errno := syscall.Syscall6(sysEpollPwait2, uintptr(p.registry.epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
	if errno == syscall.ENOSYS || errno == syscall.EPERM {
		if os.Getenv("EPOLL_TEST_REQUIRE_PWAIT2") == "1" {
			t.Fatalf("epoll_pwait2 (%d): %v, but EPOLL_TEST_REQUIRE_PWAIT2=1", sysEpollPwait2, errno)
		}
		t.Logf("epoll_pwait2 unavailable here (%v): the epoll_pwait fallback is in use", errno)
		return
	}
	if errno != 0 || n != 1 || events[0].Token() != 0x8877665544332211 || !events[0].IsReadable() {
		t.Fatalf("epoll_pwait2 (%d) = %d, %v, %v; want one readable event", sysEpollPwait2, n, errno, events[0])
	}
}

var tokenPatterns = []Token{
	0x8877665544332211, ^Token(0x8877665544332211), 0, math.MaxUint64,
	1 << 63, 1, 0x00000000ffffffff, 0xffffffff00000000, 0x0102030405060708,
}

// Many events in one Wait check the element stride as well as the data
// offset: a wrong size garbles every event after the first.
func TestTokensRoundTripThroughKernel(t *testing.T) {
	p := newPoll(t)
	var want []got
	for i := 0; i < 64; i++ {
		tok := tokenPatterns[i%len(tokenPatterns)] ^ Token(i)<<40
		efd := eventfd(t)
		register(t, p, efd, tok, Readable)
		if err := writeEventfd(efd); err != nil {
			t.Fatal(err)
		}
		want = append(want, got{Token: tok, Readable: true})
	}
	slices.SortFunc(want, func(a, b got) int { return cmpToken(a.Token, b.Token) })
	events, err := p.Wait(make([]Event, 100), 0)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "64 eventfds", want, summarize(events))

	// The bytes the kernel wrote: events first, then data in native order.
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&events[0])), len(events)*int(unsafe.Sizeof(Event{})))
	for i, e := range events {
		rec := raw[i*eventSize : (i+1)*eventSize]
		if bits := binary.NativeEndian.Uint32(rec[0:4]); bits != epollIn {
			t.Errorf("event %d: events bytes % x, want EPOLLIN", i, rec[0:4])
		}
		if data := binary.NativeEndian.Uint64(rec[dataOffset:]); Token(data) != e.Token() {
			t.Errorf("event %d: data bytes % x, Token() = %#x", i, rec[dataOffset:], e.Token())
		}
	}
}

// ---- readiness ----

func TestPipeReadiness(t *testing.T) {
	p := newPoll(t)
	r, w := pipe(t)
	register(t, p, r, 1, Readable)
	register(t, p, w, 2, Writable)
	expect(t, "empty pipe", []got{{Token: 2, Writable: true}}, poll(t, p, 0))
	write(t, w, "x")
	expect(t, "after write", []got{{Token: 1, Readable: true}, {Token: 2, Writable: true}}, poll(t, p, 0))

	r2, w2 := pipe(t)
	register(t, p, r2, 3, Readable)
	register(t, p, w2, 4, Writable)
	syscall.Close(w2)
	syscall.Close(r)
	expect(t, "closed ends", []got{
		{Token: 2, Writable: true, Error: true, WriteClosed: true}, // reader gone
		{Token: 3, ReadClosed: true, WriteClosed: true},            // writer gone: EPOLLHUP
	}, poll(t, p, 0))
}

func TestSocketReadiness(t *testing.T) {
	p := newPoll(t)
	a, b := socketpair(t)
	register(t, p, a, 10, Readable|Writable)
	expect(t, "idle socket", []got{{Token: 10, Writable: true}}, poll(t, p, 0))
	write(t, b, "hello")
	expect(t, "data", []got{{Token: 10, Readable: true, Writable: true}}, poll(t, p, 0))
	if err := syscall.Shutdown(b, syscall.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	expect(t, "peer shut down writing", []got{{Token: 10, Readable: true, Writable: true, ReadClosed: true}}, poll(t, p, 0))
}

func TestTCPAcceptAndConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := newPoll(t)
	register(t, p, ownedFd(t, ln.(*net.TCPListener)), 7, Readable)
	expect(t, "no connection yet", nil, poll(t, p, 0))
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect(t, "pending connection", []got{{Token: 7, Readable: true}}, poll(t, p, time.Second))
}

// ---- raw bits, Fd and half-close interest ----

// The exported bits are the kernel's: the syscall package's values, with
// its EPOLLET taken through int64 since it is negative on some arches.
// EPOLLEXCLUSIVE is not in the syscall package; Exclusive's refusals in
// TestBadInputsGetClearErrors show the kernel reads it as that flag.
func TestEventBitsMatchKernel(t *testing.T) {
	et := int64(syscall.EPOLLET)
	have := []uint32{EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP, EPOLLONESHOT, EPOLLET}
	want := []uint32{syscall.EPOLLIN, syscall.EPOLLPRI, syscall.EPOLLOUT, syscall.EPOLLERR, syscall.EPOLLHUP, syscall.EPOLLRDHUP, syscall.EPOLLONESHOT, uint32(et)}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("event bits differ from the syscall package's (-syscall +ours):\n%s", diff)
	}
	if EPOLLEXCLUSIVE != 1<<28 {
		t.Errorf("EPOLLEXCLUSIVE = %#x, the kernel's is 1<<28", EPOLLEXCLUSIVE)
	}
}

// Events gives what the Is* methods merge: a pipe's hang-up is EPOLLHUP, a
// socket peer's shutdown EPOLLRDHUP, its close both.
func TestEventsTellHupFromRdHup(t *testing.T) {
	p := newPoll(t)
	r, w := pipe(t)
	register(t, p, r, 1, Readable)
	shut, shutPeer := socketpair(t)
	register(t, p, shut, 2, Readable|Writable)
	closed, closedPeer := socketpair(t)
	register(t, p, closed, 3, Readable)
	r2, w2 := pipe(t)
	register(t, p, w2, 4, Writable)
	syscall.Close(r2) // a write end's reader gone is EPOLLERR, not EPOLLHUP
	syscall.Close(w)
	if err := syscall.Shutdown(shutPeer, syscall.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	syscall.Close(closedPeer)
	events, err := p.Wait(make([]Event, 8), 0)
	if err != nil {
		t.Fatal(err)
	}
	have := map[Token]uint32{}
	for _, e := range events {
		have[e.Token()] = e.Events()
	}
	want := map[Token]uint32{
		1: EPOLLHUP,
		2: EPOLLIN | EPOLLOUT | EPOLLRDHUP,
		3: EPOLLIN | EPOLLRDHUP | EPOLLHUP,
		4: EPOLLOUT | EPOLLERR,
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("Events() by token (-want +got):\n%s", diff)
	}
}

// ReadClosed asks for a peer's half-close without Readable's wake-ups for
// data; with Exclusive the kernel refuses it, while Readable|Exclusive
// goes without it.
// A peer's reset reads closed too, with an error: the read returns the
// error, ECONNRESET, not EOF, as IsReadClosed's doc says.
func TestReadClosedByReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fd := ownedFd(t, s.(*net.TCPConn))
	p := newPoll(t)
	register(t, p, fd, 1, Readable)
	if err := c.(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatal(err)
	}
	c.Close() // with linger 0: a reset
	settle(t, p, "reset", []got{{Token: 1, Readable: true, Error: true, ReadClosed: true, WriteClosed: true}})
	if n, err := syscall.Read(fd, make([]byte, 16)); err != syscall.ECONNRESET {
		t.Errorf("read after the reset: %d, %v; want ECONNRESET", n, err)
	}
}

func TestReadClosedInterest(t *testing.T) {
	p := newPoll(t)
	bits := func(what string, want map[Token]uint32) {
		t.Helper()
		events, err := p.Wait(make([]Event, 8), 0)
		if err != nil {
			t.Fatal(err)
		}
		have := map[Token]uint32{}
		for _, e := range events {
			have[e.Token()] = e.Events()
		}
		if diff := cmp.Diff(want, have); diff != "" {
			t.Errorf("%s: Events() by token (-want +got):\n%s", what, diff)
		}
	}
	only, onlyPeer := socketpair(t)
	register(t, p, only, 1, ReadClosed)
	writer, writerPeer := socketpair(t)
	register(t, p, writer, 2, Writable|ReadClosed)
	excl, exclPeer := socketpair(t)
	register(t, p, excl, 3, Readable|Exclusive)
	bits("idle", map[Token]uint32{2: EPOLLOUT})
	for _, fd := range []int{onlyPeer, writerPeer} {
		write(t, fd, "data")
	}
	bits("data arrived", map[Token]uint32{2: EPOLLOUT})
	for _, fd := range []int{onlyPeer, writerPeer, exclPeer} {
		if err := syscall.Shutdown(fd, syscall.SHUT_WR); err != nil {
			t.Fatal(err)
		}
	}
	bits("peers shut down writing", map[Token]uint32{1: EPOLLRDHUP, 2: EPOLLOUT | EPOLLRDHUP, 3: EPOLLIN})
	events, err := p.Wait(make([]Event, 8), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Token() != 3 && !e.IsReadClosed() {
			t.Errorf("%v: IsReadClosed() = false", e)
		}
	}
	r, _ := pipe(t)
	checkOpError(t, "ReadClosed|Exclusive", p.Registry().Register(r, 4, ReadClosed|Exclusive), "register", r, syscall.EINVAL, "ReadClosed")
}

// Fd serves to nest a Poll in another epoll instance: the outer one reports
// the inner one readable when the inner has events.
func TestFdNests(t *testing.T) {
	inner, outer := newPoll(t), newPoll(t)
	if inner.Fd() != inner.registry.epfd {
		t.Fatalf("Fd() = %d, the epoll fd is %d", inner.Fd(), inner.registry.epfd)
	}
	efd := eventfd(t)
	register(t, inner, efd, 1, Readable)
	register(t, outer, inner.Fd(), 2, Readable)
	expect(t, "inner idle", nil, poll(t, outer, 0))
	if err := writeEventfd(efd); err != nil {
		t.Fatal(err)
	}
	expect(t, "inner has an event", []got{{Token: 2, Readable: true}}, poll(t, outer, 0))
	expect(t, "inner's event", []got{{Token: 1, Readable: true}}, poll(t, inner, 0))
	if err := outer.Registry().Deregister(inner.Fd()); err != nil {
		t.Fatal(err)
	}
	inner.Close()
	var zero Poll
	if inner.Fd() != -1 || zero.Fd() != -1 {
		t.Errorf("Fd() after Close = %d, of a zero Poll = %d; want -1", inner.Fd(), zero.Fd())
	}
}

// DupFd's dup is the caller's: another number, close-on-exec and
// non-blocking, still open once its owner is closed. Out of fd numbers it
// says "dup" and names the original fd; a closed owner gives Control's error.
// DupFd of a closed conn passes on the conn's own error, as its doc and
// README say, not an *OpError: there is no fd and no Errno to name.
func TestDupFdOfClosedConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	fd, err := DupFd(ln.(*net.TCPListener))
	var opErr *OpError
	if fd != -1 || !errors.Is(err, net.ErrClosed) || errors.As(err, &opErr) {
		t.Errorf("DupFd of a closed listener: %d, %v (%T); want -1 and net's own error", fd, err, err)
	}
}

func TestDupFd(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	orig := -1
	if err := rc.Control(func(fd uintptr) { orig = int(fd) }); err != nil {
		t.Fatal(err)
	}
	r.Fd() // the trap: the shared file description is now blocking
	fd, err := DupFd(r)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, fd)
	fdFlags, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	flFlags, _, errno2 := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 || errno2 != 0 {
		t.Fatal(errno, errno2)
	}
	if fd == orig || fdFlags&syscall.FD_CLOEXEC == 0 || flFlags&syscall.O_NONBLOCK == 0 {
		t.Errorf("DupFd = %d (original %d), FD_CLOEXEC %v, O_NONBLOCK %v: want another number with both set", fd, orig, fdFlags&syscall.FD_CLOEXEC != 0, flFlags&syscall.O_NONBLOCK != 0)
	}

	var full error
	withNoFdLeft(t, fd, func() { _, full = DupFd(r) })
	checkOpError(t, "DupFd with no fd left", full, "dup", orig, syscall.EMFILE, "too many open files")

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if !fdOpen(fd) {
		t.Error("closing the owner closed the dup")
	}
	if d, err := DupFd(r); err == nil || d != -1 {
		t.Errorf("DupFd of a closed *os.File = %d, %v: want -1 and Control's error", d, err)
	}
}

// README and the examples warn that (*os.File).Fd() switches the file
// description to blocking mode, also for the net.Listener whose File() it
// came from. If a Go release stops doing that, this fails and the warning
// can go.
func TestFdTrapIsReal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	nonblocking := func() bool {
		var flags uintptr
		var errno syscall.Errno
		if err := rc.Control(func(fd uintptr) { flags, _, errno = syscall.RawSyscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0) }); err != nil {
			t.Fatal(err)
		}
		if errno != 0 {
			t.Fatal(errno)
		}
		return flags&syscall.O_NONBLOCK != 0
	}
	register(t, newPoll(t), ownedFd(t, ln.(*net.TCPListener)), 1, Readable)
	if !nonblocking() {
		t.Fatal("registering ownedFd's dup left the listener blocking")
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Fd()
	if nonblocking() {
		t.Errorf("after File().Fd() the listener is still non-blocking: Go no longer sets blocking mode; update README and ownedFd's comment")
	}
}

// ---- trigger modes ----

func TestLevelTriggeredRepeats(t *testing.T) {
	p := newPoll(t)
	r, w := pipe(t)
	register(t, p, r, 1, Readable)
	write(t, w, "x")
	for i := 0; i < 3; i++ {
		expect(t, "still readable", []got{{Token: 1, Readable: true}}, poll(t, p, 0))
	}
	drain(t, r)
	expect(t, "drained", nil, poll(t, p, 0))
}

func TestEdgeTriggeredReportsOnce(t *testing.T) {
	p := newPoll(t)
	r, w := pipe(t)
	register(t, p, r, 1, Readable|EdgeTriggered)
	write(t, w, "x")
	expect(t, "first edge", []got{{Token: 1, Readable: true}}, poll(t, p, 0))
	expect(t, "no new edge", nil, poll(t, p, 0))
	write(t, w, "y")
	expect(t, "second edge", []got{{Token: 1, Readable: true}}, poll(t, p, 0))
}

func TestOneshotRearm(t *testing.T) {
	p := newPoll(t)
	r, w := pipe(t)
	register(t, p, r, 1, Readable|Oneshot)
	write(t, w, "x")
	expect(t, "first", []got{{Token: 1, Readable: true}}, poll(t, p, 0))
	write(t, w, "y")
	expect(t, "disarmed", nil, poll(t, p, 0))
	if err := p.Registry().Reregister(r, 2, Readable|Oneshot); err != nil {
		t.Fatal(err)
	}
	expect(t, "re-armed", []got{{Token: 2, Readable: true}}, poll(t, p, 0))
	expect(t, "disarmed again", nil, poll(t, p, 0))
}

// With several Polls blocked on one fd, Exclusive wakes one of them. The
// write decides which Polls get the event, so each Wait waits forever and a
// Waker ends it afterwards: no timeout that a slow machine could miss.
func TestExclusiveWakesOnePoll(t *testing.T) {
	// Every Wait goes straight to the blocking call. A raw wait that runs
	// out leaves its Poll's wait queue until the blocking call begins, and
	// an exclusive wake in that moment goes on to the other Poll too, as
	// EPOLLEXCLUSIVE allows ("one or more"): a test acting as soon as both
	// Waits sleep would count 2 whenever the first Wait's raw part had run
	// out, as on a slow emulated machine.
	blockingCallsOnly(t)
	for _, mode := range []Interest{0, Exclusive} {
		efd := eventfd(t)
		var mu sync.Mutex
		woken := 0
		var dones []chan struct{}
		var wakers []*Waker
		for i := 0; i < 2; i++ {
			p := newPoll(t)
			register(t, p, efd, Token(i), Readable|mode)
			wk, err := NewWaker(p.Registry(), 100)
			if err != nil {
				t.Fatal(err)
			}
			defer wk.Close()
			wakers = append(wakers, wk)
			tid, done := lockedThread(func() {
				events, err := p.Wait(make([]Event, 4), Forever)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				for _, e := range events {
					woken += b2i(e.Token() != 100)
				}
				mu.Unlock()
			})
			waitBlocked(t, tid)
			dones = append(dones, done)
		}
		if err := writeEventfd(efd); err != nil {
			t.Fatal(err)
		}
		for _, wk := range wakers {
			if err := wk.Wake(); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range dones {
			<-d
		}
		want := 2
		if mode == Exclusive {
			want = 1
		}
		if woken != want {
			t.Errorf("interest %v: %d Polls woken, want %d", Readable|mode, woken, want)
		}
	}
}

func TestReregisterReplacesTokenAndInterest(t *testing.T) {
	p := newPoll(t)
	a, b := socketpair(t)
	register(t, p, a, 1, Readable)
	write(t, b, "x")
	expect(t, "registered", []got{{Token: 1, Readable: true}}, poll(t, p, 0))
	if err := p.Registry().Reregister(a, 2, Writable); err != nil {
		t.Fatal(err)
	}
	expect(t, "reregistered", []got{{Token: 2, Writable: true}}, poll(t, p, 0))
}

func TestNoEventsAfterDeregister(t *testing.T) {
	p := newPoll(t)
	r, w := pipe(t)
	register(t, p, r, 1, Readable)
	write(t, w, "x")
	if err := p.Registry().Deregister(r); err != nil {
		t.Fatal(err)
	}
	expect(t, "deregistered", nil, poll(t, p, 20*time.Millisecond))
}

// ---- waking and concurrency ----

func TestWakerFromAnotherGoroutine(t *testing.T) {
	p := newPoll(t)
	wk, err := NewWaker(p.Registry(), 99)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.Close()
	var events []Event
	tid, done := lockedThread(func() { events, err = p.Wait(make([]Event, 4), Forever) })
	waitBlocked(t, tid)
	if err := wk.Wake(); err != nil {
		t.Fatal(err)
	}
	<-done
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "woken", []got{{Token: 99, Readable: true}}, summarize(events))
}

func TestWakesCoalesce(t *testing.T) {
	p := newPoll(t)
	wk, err := NewWaker(p.Registry(), 5)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.Close()
	for i := 0; i < 100; i++ {
		if err := wk.Wake(); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, "100 wakes", []got{{Token: 5, Readable: true}}, poll(t, p, 0))
	expect(t, "consumed", nil, poll(t, p, 0))
	if err := wk.Wake(); err != nil {
		t.Fatal(err)
	}
	expect(t, "next wake", []got{{Token: 5, Readable: true}}, poll(t, p, 0))
}

func TestWakeWhenCounterSaturated(t *testing.T) {
	p := newPoll(t)
	wk, err := NewWaker(p.Registry(), 5)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.Close()
	max := uint64(math.MaxUint64 - 1) // the largest count an eventfd holds
	if _, _, errno := syscall.RawSyscall(sysWrite, uintptr(wk.fd), uintptr(unsafe.Pointer(&max)), 8); errno != 0 {
		t.Fatal(errno)
	}
	poll(t, p, 0)
	if err := wk.Wake(); err != nil {
		t.Fatalf("Wake on a saturated eventfd: %v", err)
	}
	expect(t, "wake after saturation", []got{{Token: 5, Readable: true}}, poll(t, p, 0))
}

func TestRegisterDuringBlockedWait(t *testing.T) {
	p := newPoll(t)
	r, w := pipe(t)
	write(t, w, "x")
	var events []Event
	var err error
	tid, done := lockedThread(func() { events, err = p.Wait(make([]Event, 4), Forever) })
	waitBlocked(t, tid)
	register(t, p, r, 3, Readable)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not see a registration made while it was blocked")
	}
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "registered while blocked", []got{{Token: 3, Readable: true}}, summarize(events))
}

// ---- timeouts ----

// epoll_pwait's argument for the timeouts waitBlocking passes (positive
// ones): at and beyond the longest it can express, no deadline (-1).
func TestMsTimeout(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want int32
	}{
		{1, 1}, {time.Microsecond, 1}, {time.Millisecond, 1},
		{time.Millisecond + 1, 2}, {1500 * time.Microsecond, 2}, {time.Second, 1000},
		{maxTimeout - 1, math.MaxInt32}, {maxTimeout - time.Millisecond, math.MaxInt32 - 1},
		{maxTimeout, -1}, {maxTimeout + 1, -1}, {1 << 62, -1}, {Forever, -1},
	}
	for _, c := range cases {
		if got := msTimeout(c.in); got != c.want {
			t.Errorf("msTimeout(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

// forEachWaitPath runs f once with epoll_pwait2 (where the kernel has it)
// and once with the millisecond epoll_pwait fallback.
func forEachWaitPath(t *testing.T, f func(t *testing.T)) {
	saved := pwait2Missing.Load()
	defer pwait2Missing.Store(saved)
	for _, missing := range []bool{false, true} {
		name := map[bool]string{false: "pwait2", true: "pwait"}[missing]
		t.Run(name, func(t *testing.T) {
			pwait2Missing.Store(saved || missing)
			f(t)
		})
	}
}

func TestZeroTimeoutDoesNotBlock(t *testing.T) {
	p := newPoll(t)
	r, _ := pipe(t)
	register(t, p, r, 1, Readable)
	start := time.Now()
	expect(t, "nothing ready", nil, poll(t, p, 0))
	// A generous bound: a blocking call would wait forever.
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Wait(0) took %v", elapsed)
	}
}

// Short timeouts must sleep in the kernel, not spin: a timeout rounded down
// to 0 would return at once and be retried in a busy loop until the
// deadline. With nothing ready, a correct Wait makes one wait call (plus at
// most one per signal that interrupted it) and never returns early.
func TestShortTimeoutsNeitherSpinNorReturnEarly(t *testing.T) {
	forEachWaitPath(t, func(t *testing.T) {
		p := newPoll(t)
		r, _ := pipe(t)
		register(t, p, r, 1, Readable)
		calls := countWaitCalls(t, p)
		for _, timeout := range []time.Duration{time.Nanosecond, 300 * time.Microsecond, 999 * time.Microsecond, 20 * time.Millisecond} {
			calls.Store(0)
			retries := eintrRetries.Load()
			start := time.Now()
			expect(t, timeout.String(), nil, poll(t, p, timeout))
			elapsed := time.Since(start)
			if elapsed < timeout {
				t.Errorf("Wait(%v) returned after %v", timeout, elapsed)
			}
			// The raw wait (all of a timeout up to rawWaitMax), then at
			// most one blocking call for the rest; a signal adds a call,
			// unless the deadline passed meanwhile.
			if n, interrupted := calls.Load(), eintrRetries.Load()-retries; n < 1 || n > 2+interrupted {
				t.Errorf("Wait(%v) made %d wait calls with %d signals in %v: it spun", timeout, n, interrupted, elapsed)
			}
		}
	})
}

// A blocking Wait's first sleep holds its P without telling the scheduler
// (see waitBlocking). With one P, a goroutine that is ready must still run
// before a Wait that finds nothing returns: Wait yields once its first
// sleep is over. Without the yield it would wait for sysmon's preemption.
func TestSleepingWaitYieldsItsP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	forEachWaitPath(t, func(t *testing.T) {
		p := newPoll(t)
		r, _ := pipe(t)
		register(t, p, r, 1, Readable)
		for _, timeout := range []time.Duration{time.Millisecond, 2 * rawWaitMax} {
			// A round that a preemption signal interrupted proves nothing
			// (the signal lets the ready goroutine run), so it is run
			// again; yieldRound's fresh time slice makes that rare.
			for round := 1; ; round++ {
				interrupted, ran := yieldRound(t, p, timeout)
				if !interrupted {
					if !ran {
						t.Errorf("three Waits(%v) returned before a ready goroutine ran", timeout)
					}
					break
				}
				if round == 10 {
					t.Fatalf("Waits(%v): a preemption signal interrupted all %d rounds", timeout, round)
				}
			}
		}
	})
}

// yieldRound makes a goroutine ready on this P and Waits up to three times
// until it has run, and reports whether it ran and whether a signal
// interrupted a Wait meanwhile.
func yieldRound(t *testing.T, p *Poll, timeout time.Duration) (interrupted, ran bool) {
	// A fresh time slice: sysmon preempts the test goroutine only 10 ms
	// after it was last scheduled, and a goroutine started by t.Run
	// inherits its parent's slice.
	runtime.Gosched()
	signals := eintrRetries.Load()
	var ready atomic.Bool
	go ready.Store(true) // ready, on this P, behind the running test
	// Up to three Waits: every 61st round Go's scheduler takes its global
	// queue first, where the yield put the Wait's goroutine. Without the
	// yield, three 1 ms Waits end before sysmon would preempt the test.
	for i := 0; i < 3 && !ready.Load(); i++ {
		expect(t, timeout.String(), nil, poll(t, p, timeout))
	}
	ran = ready.Load()
	for !ready.Load() { // no goroutine left behind for the next round
		runtime.Gosched()
	}
	return eintrRetries.Load() != signals, ran
}

// Forever, and every timeout at or beyond epoll_pwait's longest, waits for
// an event on both paths: one wait call, blocked until the Wake.
func TestForeverEndedByWake(t *testing.T) {
	forEachWaitPath(t, func(t *testing.T) {
		p := newPoll(t)
		wk, err := NewWaker(p.Registry(), 1)
		if err != nil {
			t.Fatal(err)
		}
		defer wk.Close()
		calls := countWaitCalls(t, p)
		for _, timeout := range []time.Duration{Forever, maxTimeout, maxTimeout + 1, 1 << 62} {
			calls.Store(0)
			retries := eintrRetries.Load()
			var events []Event
			var err error
			tid, done := lockedThread(func() { events, err = p.Wait(make([]Event, 4), timeout) })
			// Past the raw wait's millisecond: the Wake must end the
			// blocking call that waits forever.
			awaitCalls(t, calls, 1)
			waitBlocked(t, tid)
			if err := wk.Wake(); err != nil {
				t.Fatal(err)
			}
			<-done
			if err != nil {
				t.Fatal(err)
			}
			expect(t, fmt.Sprintf("Wait(%v)", timeout), []got{{Token: 1, Readable: true}}, summarize(events))
			if n, interrupted := calls.Load(), eintrRetries.Load()-retries; n < 2 || n > 2+interrupted {
				t.Errorf("Wait(%v): %d wait calls", timeout, n)
			}
		}
	})
}

// A deadline in the past is a non-blocking poll, as in the rest of Go: the
// natural p.Wait(events, time.Until(next)) must not hang once next passed.
// It makes no blocking call, on either path.
func TestPastDeadlinePolls(t *testing.T) {
	forEachWaitPath(t, func(t *testing.T) {
		p := newPoll(t)
		r, w := pipe(t)
		register(t, p, r, 1, Readable)
		calls := countWaitCalls(t, p)
		past := time.Now().Add(-time.Millisecond)
		for _, timeout := range []time.Duration{-1, -time.Millisecond, -time.Hour, time.Until(past), math.MinInt64} {
			var events []Event
			var err error
			_, done := lockedThread(func() { events, err = p.Wait(make([]Event, 4), timeout) })
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				p.Close()
				<-done
				t.Fatalf("Wait(%v) with nothing ready blocked", timeout)
			}
			if err != nil {
				t.Fatal(err)
			}
			expect(t, fmt.Sprintf("Wait(%v), nothing ready", timeout), nil, summarize(events))
			write(t, w, "x")
			expect(t, fmt.Sprintf("Wait(%v), pipe ready", timeout), []got{{Token: 1, Readable: true}}, poll(t, p, timeout))
			drain(t, r)
		}
		if n := calls.Load(); n != 0 {
			t.Errorf("negative timeouts made %d blocking wait calls", n)
		}
	})
}

// WaitPath names the call timed Waits use: epoll_pwait2 exactly where it
// works (New has probed it), epoll_pwait once it has failed.
func TestWaitPath(t *testing.T) {
	p := newPoll(t)
	var ts timespec
	events := make([]Event, 1)
	_, _, errno := syscall.Syscall6(sysEpollPwait2, uintptr(p.registry.epfd), uintptr(unsafe.Pointer(&events[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0)
	want := "epoll_pwait2"
	if errno == syscall.ENOSYS || errno == syscall.EPERM {
		want = "epoll_pwait"
	}
	if have := WaitPath(); have != want {
		t.Errorf("WaitPath() = %q; epoll_pwait2 answers %v, so want %q", have, errno, want)
	}
	if os.Getenv("EPOLL_TEST_REQUIRE_PWAIT2") == "1" && WaitPath() != "epoll_pwait2" {
		t.Errorf("WaitPath() = %q, but EPOLL_TEST_REQUIRE_PWAIT2=1", WaitPath())
	}
	forEachWaitPath(t, func(t *testing.T) {
		want := map[bool]string{false: "epoll_pwait2", true: "epoll_pwait"}[pwait2Missing.Load()]
		if have := WaitPath(); have != want {
			t.Errorf("WaitPath() = %q, want %q", have, want)
		}
	})
}

// Signals interrupt epoll_pwait with EINTR, which is never restarted. Wait
// must retry against the original deadline and neither fail nor return early.
func TestSignalsDuringTimedWait(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	forEachWaitPath(t, func(t *testing.T) {
		// A slow machine may send no signal before a Wait ends: try
		// again, a bounded number of times, until one was interrupted.
		for attempt := 1; !signalsDuringTimedWait(t); attempt++ {
			if attempt == 20 {
				t.Fatalf("signals sent during %d Waits, no EINTR seen: the test did not test", attempt)
			}
		}
	})
}

// signalsDuringTimedWait signals a thread in a timed Wait every 2 ms until
// the Wait ends, checks the Wait, and reports whether a signal interrupted it.
func signalsDuringTimedWait(t *testing.T) (interrupted bool) {
	p := newPoll(t)
	r, _ := pipe(t)
	register(t, p, r, 1, Readable)
	const timeout = 200 * time.Millisecond
	retriesBefore := eintrRetries.Load()
	stop := make(chan struct{})
	var elapsed time.Duration
	var events []got
	var err error
	tid, done := lockedThread(func() {
		start := time.Now()
		var evs []Event
		evs, err = p.Wait(make([]Event, 4), timeout)
		elapsed = time.Since(start)
		events = summarize(evs)
		close(stop)
	})
	pid := os.Getpid()
	for sent := 0; ; sent++ {
		select {
		case <-stop:
			<-done
			if err != nil {
				t.Fatalf("Wait during signals: %v", err)
			}
			expect(t, "signals are not events", nil, events)
			if elapsed < timeout {
				t.Errorf("Wait(%v) returned after %v", timeout, elapsed)
			}
			return eintrRetries.Load() != retriesBefore
		default:
		}
		sig := syscall.SIGUSR1
		if sent%2 == 1 {
			sig = syscall.SIGURG // the runtime's preemption signal
		}
		// ESRCH: the thread ended with its Wait, after the check above.
		if err := syscall.Tgkill(pid, tid, sig); err != nil && err != syscall.ESRCH {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// denyPwait2 installs a seccomp filter on the calling thread, and only it,
// that answers epoll_pwait2 with EPERM, as a seccomp profile older than
// the call does. The caller must keep the thread locked until it exits.
func denyPwait2() error {
	const (
		prSetNoNewPrivs   = 38 // not in the syscall package on every arch
		seccompModeFilter = 2
		retErrno          = 0x00050000
		retAllow          = 0x7fff0000
	)
	filter := []syscall.SockFilter{
		{Code: syscall.BPF_LD | syscall.BPF_W | syscall.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: syscall.BPF_JMP | syscall.BPF_JEQ | syscall.BPF_K, Jt: 0, Jf: 1, K: sysEpollPwait2},
		{Code: syscall.BPF_RET | syscall.BPF_K, K: retErrno | uint32(syscall.EPERM)},
		{Code: syscall.BPF_RET | syscall.BPF_K, K: retAllow},
	}
	prog := syscall.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); errno != 0 {
		return errno
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_SECCOMP, seccompModeFilter, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		return errno
	}
	return nil
}

// As WaitPath documents: one thread's EPERM for epoll_pwait2 switches every
// Poll of the process to epoll_pwait, and WaitPath shows it.
func TestOneThreadsSeccompSwitchesEveryPoll(t *testing.T) {
	saved := pwait2Missing.Load()
	defer pwait2Missing.Store(saved)
	if saved {
		// ENOSYS or EPERM everywhere already (qemu-user, an old kernel, a
		// container's profile): New's probe switched the path.
		if WaitPath() != "epoll_pwait" {
			t.Fatalf("epoll_pwait2 is missing, but WaitPath() = %q", WaitPath())
		}
		t.Log("epoll_pwait2 is missing in the whole process; the switch already happened")
		return
	}
	p, other := newPoll(t), newPoll(t)
	errs := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with its filter
		if err := denyPwait2(); err != nil {
			errs <- err
			return
		}
		if WaitPath() != "epoll_pwait2" {
			errs <- errors.New("switched before any Wait")
			return
		}
		// A fraction of a millisecond, which only epoll_pwait2 expresses:
		// its first call gets EPERM, and it falls back.
		_, err := p.Wait(make([]Event, 1), 1500*time.Microsecond)
		errs <- err
	}()
	if err := <-errs; err != nil {
		t.Fatalf("filtered thread: %v", err)
	}
	if WaitPath() != "epoll_pwait" {
		t.Errorf("after one thread's EPERM, WaitPath() = %q, want epoll_pwait", WaitPath())
	}
	r, w := pipe(t)
	register(t, other, r, 1, Readable)
	write(t, w, "x")
	expect(t, "another Poll, another thread", []got{{Token: 1, Readable: true}}, poll(t, other, time.Millisecond))
}

// ---- closing ----

func TestCloseDuringWait(t *testing.T) {
	p := newPoll(t)
	var err error
	tid, done := lockedThread(func() { _, err = p.Wait(make([]Event, 4), Forever) })
	waitBlocked(t, tid)
	if cerr := p.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait still blocked after Close")
	}
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait interrupted by Close returned %v, want ErrClosed", err)
	}
}

func fdOpen(fd int) bool {
	_, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	return errno == 0
}

// Close must not release the epoll fd number while a call still uses it, or
// a concurrent open could get the number and the call would act on that file.
func TestCloseWaitsForCallsInFlight(t *testing.T) {
	p := newPoll(t)
	epfd := p.registry.epfd
	if !p.registry.life.acquire() { // a call in flight
		t.Fatal("acquire on an open Poll failed")
	}
	closed := make(chan error)
	go func() { closed <- p.Close() }()
	// Until Close waits for the call, or returns without waiting: a
	// timer would let a Close that does not wait, but is slow to close
	// the fd, pass on a slow machine.
	for deadline := time.Now().Add(10 * time.Second); !closeAwaitsDrain(); time.Sleep(time.Millisecond) {
		select {
		case err := <-closed:
			t.Fatalf("Close returned %v with a call in flight", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("Close neither returned nor waited for the call in flight in 10 s")
		}
	}
	if !fdOpen(epfd) {
		t.Fatal("epoll fd closed under a call in flight")
	}
	p.registry.life.release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if fdOpen(epfd) {
		t.Fatal("epoll fd still open after Close")
	}
}

// closeAwaitsDrain reports whether a goroutine is blocked in
// lifetime.waitDrained, as a Close waiting for calls in flight is.
func closeAwaitsDrain() bool {
	buf := make([]byte, 1<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "[chan receive") && strings.Contains(g, ".(*lifetime).waitDrained(") {
			return true
		}
	}
	return false
}

func TestEveryCallAfterClose(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	r, _ := pipe(t)
	wk, err := NewWaker(p.Registry(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_, waitErr := p.Wait(make([]Event, 1), 0)
	_, wakerErr := NewWaker(p.Registry(), 2)
	calls := map[string]error{
		"Register":   p.Registry().Register(r, 1, Readable),
		"Reregister": p.Registry().Reregister(r, 1, Readable),
		"Deregister": p.Registry().Deregister(r),
		"Wait":       waitErr,
		"NewWaker":   wakerErr,
		"Wake":       wk.Wake(),
	}
	for name, err := range calls {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := wk.Close(); err != nil {
		t.Errorf("Waker.Close after Poll.Close: %v", err)
	}
	if err := wk.Wake(); !errors.Is(err, ErrClosed) {
		t.Errorf("Wake after Waker.Close: %v, want ErrClosed", err)
	}
	if err := wk.Close(); err != nil {
		t.Errorf("second Waker.Close: %v", err)
	}
}

// A zero Registry is closed, whatever fd it is given: its zero closeFd and
// epfd fields must not turn fd 0 into "not an open file descriptor", nor a
// bad fd number hide that the Registry is closed.
func TestZeroRegistryIsClosedBeforeFdChecks(t *testing.T) {
	var reg Registry
	r, _ := pipe(t)
	for _, fd := range []int{0, -1, r} {
		for name, err := range map[string]error{
			"Register":   reg.Register(fd, 1, Readable),
			"Reregister": reg.Reregister(fd, 1, Readable),
			"Deregister": reg.Deregister(fd),
		} {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("zero Registry: %s(%d) = %v, want ErrClosed", name, fd, err)
			}
		}
	}
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := p.Registry().Register(-1, 1, Readable); !errors.Is(err, ErrClosed) {
		t.Errorf("closed Poll: Register(-1) = %v, want ErrClosed", err)
	}
}

// withNoFdLeft runs f with every fd number below a lowered RLIMIT_NOFILE
// taken by dups of fd, so that whatever f makes an fd with gets EMFILE; the
// dups are closed and the limit restored before it returns.
func withNoFdLeft(t *testing.T, fd int, f func()) {
	t.Helper()
	var saved syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
	low := saved
	low.Cur = uint64(countFds(t) + 8)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var fill []int
	for {
		d, err := syscall.Dup(fd)
		if err == syscall.EMFILE {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fill = append(fill, d)
	}
	f()
	for _, d := range fill {
		syscall.Close(d)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
}

// When code closing a stale fd number has closed the Poll's own eventfd,
// Close still ends a blocked Wait (through a new eventfd), closes the epoll
// fd, reports the EBADF as a close error, and is done: a second Close is nil.
func TestCloseWithoutItsEventfd(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	epfd, own := p.registry.epfd, p.registry.closeFd
	var waitErr error
	tid, done := lockedThread(func() { _, waitErr = p.Wait(make([]Event, 4), Forever) })
	waitBlocked(t, tid)
	syscall.Close(own)
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait still blocked 10 s after Close") // leaks the Poll: it cannot be woken
	}
	checkOpError(t, "Close", <-closed, "close", own, syscall.EBADF, "closed elsewhere")
	if !errors.Is(waitErr, ErrClosed) {
		t.Errorf("Wait ended by Close: %v, want ErrClosed", waitErr)
	}
	if fdOpen(epfd) {
		t.Errorf("epoll fd %d still open after Close", epfd)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// If Close can wake a blocked Wait neither through its own eventfd (closed
// behind its back) nor through a new one (no fd numbers left), it returns
// an error and leaves the Poll closed to new calls but not yet closed; a
// later Close, once an eventfd can be made, finishes.
func TestCloseStaysRetryable(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	epfd, own := p.registry.epfd, p.registry.closeFd
	var waitErr error
	tid, done := lockedThread(func() { _, waitErr = p.Wait(make([]Event, 4), Forever) })
	waitBlocked(t, tid)
	syscall.Close(own)

	// No fd number left, so eventfd2 gets EMFILE.
	var first error
	withNoFdLeft(t, epfd, func() { first = p.Close() })
	// The own eventfd's number now names one of the dups: writing to that
	// epoll fd is EINVAL.
	var opErr *OpError
	if !errors.Is(first, syscall.EMFILE) || !errors.As(first, &opErr) || opErr.Op != "close" || !strings.Contains(first.Error(), "closed elsewhere") {
		t.Errorf("first Close: %v, want close errors: the own eventfd gone, and EMFILE for a new one", first)
	}
	// The EMFILE names the fd Close was closing, not -1.
	if joined, ok := first.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if errors.As(e, &opErr) && errors.Is(e, syscall.EMFILE) && opErr.Fd != epfd {
				t.Errorf("first Close's EMFILE names fd %d, want the epoll fd %d: %v", opErr.Fd, epfd, e)
			}
		}
	}
	if err := p.Registry().Register(0, 1, Readable); !errors.Is(err, ErrClosed) {
		t.Errorf("Register after the failed Close: %v, want ErrClosed", err)
	}
	if !fdOpen(epfd) {
		t.Fatal("the failed Close closed the epoll fd under a blocked Wait")
	}

	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v, want nil: nothing is wrong any more", err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait still blocked 10 s after the second Close")
	}
	if !errors.Is(waitErr, ErrClosed) {
		t.Errorf("Wait ended by Close: %v, want ErrClosed", waitErr)
	}
	if fdOpen(epfd) {
		t.Errorf("epoll fd %d still open after the second Close", epfd)
	}
}

// Several goroutines may wait on one Poll: each edge-triggered event goes to
// exactly one of them, and Close ends them all with ErrClosed.
func TestSeveralWaiters(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const waiters, fds = 4, 64
	var efds []int
	for i := 0; i < fds; i++ {
		efd := eventfd(t)
		register(t, p, efd, Token(i), Readable|EdgeTriggered)
		efds = append(efds, efd)
	}
	tokens := make(chan Token, 2*fds)
	errs := make(chan error, waiters)
	for i := 0; i < waiters; i++ {
		tid, _ := lockedThread(func() {
			events := make([]Event, 0, 3) // each its own buffer
			for {
				var err error
				if events, err = p.Wait(events, Forever); err != nil {
					errs <- err
					return
				}
				for _, e := range events {
					tokens <- e.Token()
				}
			}
		})
		waitBlocked(t, tid)
	}
	for _, efd := range efds {
		if err := writeEventfd(efd); err != nil {
			t.Fatal(err)
		}
	}
	seen := make(map[Token]int)
	for len(seen) < fds {
		select {
		case tok := <-tokens:
			seen[tok]++
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d events after 10 s", len(seen), fds)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < waiters; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("a waiter ended with %v, want ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d waiters still in Wait 10 s after Close", waiters-i)
		}
	}
	close(tokens)
	for tok := range tokens {
		seen[tok]++
	}
	for tok, n := range seen {
		if n != 1 {
			t.Errorf("token %d reported %d times", tok, n)
		}
	}
}

// ---- bad input ----

func TestBadInputsGetClearErrors(t *testing.T) {
	p := newPoll(t)
	reg := p.Registry()
	notPollable(t, p)
	r, _ := pipe(t)
	const closedFd = 54321
	if fdOpen(closedFd) {
		t.Fatalf("fd %d is open", closedFd)
	}
	registered, _ := pipe(t)
	register(t, p, registered, 1, Readable)
	exclusive, _ := pipe(t)
	register(t, p, exclusive, 2, Readable|Exclusive)
	epfd := p.registry.epfd

	cases := []badInput{
		{"closed fd", reg.Register(closedFd, 1, Readable), "register", closedFd, syscall.EBADF, "not an open file descriptor"},
		{"negative fd", reg.Register(-1, 1, Readable), "register", -1, syscall.EBADF, "not an open file descriptor"},
		{"the epoll fd itself", reg.Register(epfd, 1, Readable), "register", epfd, syscall.EINVAL, "epoll fd itself"},
		{"unknown interest", reg.Register(r, 1, Interest(0x400)), "register", r, syscall.EINVAL, "unknown interest"},
		{"double register", reg.Register(registered, 1, Readable), "register", registered, syscall.EEXIST, "Reregister"},
		{"reregister unregistered", reg.Reregister(r, 1, Readable), "reregister", r, syscall.ENOENT, "not registered"},
		{"deregister unregistered", reg.Deregister(r), "deregister", r, syscall.ENOENT, "not registered"},
		{"reregister with Exclusive", reg.Reregister(registered, 1, Readable|Exclusive), "reregister", registered, syscall.EINVAL, "Exclusive"},
		{"reregister an Exclusive fd", reg.Reregister(exclusive, 1, Readable), "reregister", exclusive, syscall.EINVAL, "Exclusive"},
		{"Exclusive with Oneshot", reg.Register(r, 1, Readable|Exclusive|Oneshot), "register", r, syscall.EINVAL, "Exclusive with Oneshot"},
	}
	_, zeroCapErr := p.Wait(nil, 0)
	cases = append(cases, badInput{"zero-capacity events", zeroCapErr, "wait", epfd, syscall.EINVAL, "no capacity"})
	if strconv.IntSize == 64 {
		// The kernel reads an int: truncated, this would be the open fd r.
		beyond := int(uint64(r) | 1<<40)
		cases = append(cases, badInput{"fd beyond int32", reg.Register(beyond, 1, Readable), "register", beyond, syscall.EBADF, "not an open file descriptor"})
	}

	for _, c := range cases {
		checkOpError(t, c.name, c.err, c.op, c.fd, c.errno, c.says)
	}
}

func TestNoFdLeaks(t *testing.T) {
	before := countFds(t)
	for i := 0; i < 20; i++ {
		p, err := New()
		if err != nil {
			t.Fatal(err)
		}
		var fds [2]int
		if err := syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		register(t, p, fds[0], 1, Readable)
		if err := p.Registry().Register(fds[0], 1, Readable); !errors.Is(err, syscall.EEXIST) {
			t.Fatalf("second Register: %v, want EEXIST", err)
		}
		wk, err := NewWaker(p.Registry(), 2)
		if err != nil {
			t.Fatal(err)
		}
		wk2, err := NewWaker(p.Registry(), 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := wk.Wake(); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Wait(make([]Event, 8), 0); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			wk.Close()
		}
		p.Close()
		wk.Close()
		wk2.Close() // after Poll.Close: still closes its eventfd
		syscall.Close(fds[0])
		syscall.Close(fds[1])
	}
	if after := countFds(t); after != before {
		t.Errorf("%d fds open before, %d after", before, after)
	}
}

func TestNoAllocations(t *testing.T) {
	p := newPoll(t)
	r, w := pipe(t)
	write(t, w, "x")
	wk, err := NewWaker(p.Registry(), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.Close()
	// A Poll with an fd always ready, whose every Wait returns an event, as
	// an event loop's do; p's Waits measure the empty return.
	busy := newPoll(t)
	ready, readyW := pipe(t)
	write(t, readyW, "x")
	register(t, busy, ready, 3, Readable)
	events := make([]Event, 8)
	reg := p.Registry()
	cases := map[string]func(){
		"Wait(0)":             func() { events, err = p.Wait(events, 0) },
		"Wait(1ms)":           func() { events, err = p.Wait(events, time.Millisecond) },
		"Wait(0), an event":   func() { events, err = busy.Wait(events, 0) },
		"Wait(1ms), an event": func() { events, err = busy.Wait(events, time.Millisecond) },
		"Register+Deregister": func() {
			if err = reg.Register(r, 1, Readable); err == nil {
				err = reg.Deregister(r)
			}
		},
		"Reregister": func() { err = reg.Reregister(wk.fd, 2, Readable|EdgeTriggered) },
		// Without the clear only AllocsPerRun's warm-up call would write:
		// the measured Wakes would all coalesce with it.
		"Wake":                  func() { wk.pending.Store(false); err = wk.Wake() },
		"Wake, coalesced":       func() { err = wk.Wake() },
		"Event accessors+Token": func() { _ = events[:1][0].IsReadable() && events[:1][0].Token() == 0 },
	}
	for name, f := range cases {
		err = nil
		if allocs := testing.AllocsPerRun(100, f); allocs != 0 {
			t.Errorf("%s: %v allocations per call", name, allocs)
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// ---- Event and Interest formatting ----

func TestEventAccessors(t *testing.T) {
	cases := []struct {
		bits uint32
		want got
	}{
		{epollIn, got{Readable: true}},
		{epollOut, got{Writable: true}},
		{epollPri, got{Priority: true}},
		{epollIn | epollRdHup, got{Readable: true, ReadClosed: true}},
		{epollRdHup, got{ReadClosed: true}}, // from ReadClosed without Readable
		{epollHup, got{ReadClosed: true, WriteClosed: true}},
		{epollOut | epollErr, got{Writable: true, Error: true, WriteClosed: true}},
		{epollErr, got{Error: true, WriteClosed: true}},
		{epollIn | epollErr, got{Readable: true, Error: true}},
	}
	for _, c := range cases {
		c.want.Token = 42
		have := summarize([]Event{makeEvent(c.bits, 42)})[0]
		if diff := cmp.Diff(c.want, have); diff != "" {
			t.Errorf("events %#x (-want +got):\n%s", c.bits, diff)
		}
	}
}

func TestStrings(t *testing.T) {
	cases := map[string]string{
		makeEvent(epollIn|epollOut|epollRdHup, 7).String():    "{Token: 7, Events: EPOLLIN|EPOLLOUT|EPOLLRDHUP}",
		makeEvent(0, math.MaxUint64).String():                 "{Token: 18446744073709551615, Events: 0x0}",
		makeEvent(epollHup|1<<20, 1).String():                 "{Token: 1, Events: EPOLLHUP|0x100000}",
		(Readable | EdgeTriggered).String():                   "Readable|EdgeTriggered",
		(Writable | Priority | Oneshot | Exclusive).String():  "Writable|Priority|Oneshot|Exclusive",
		(Writable | ReadClosed).String():                      "Writable|ReadClosed",
		Interest(0).String():                                  "0x0",
		(&OpError{Op: "wait", Fd: 3, Err: ErrClosed}).Error(): "epoll: wait fd 3: use of closed epoll instance",
	}
	for have, want := range cases {
		if have != want {
			t.Errorf("got %q, want %q", have, want)
		}
	}
}

// ---- benchmarks ----

func BenchmarkWait(b *testing.B) { benchWaitReady(b, 0) }

// BenchmarkWaitTimedReady is a Wait with a timeout on a ready fd, as a busy
// event loop with deadlines calls it: it returns at once, so what it costs
// beyond BenchmarkWait is the timed path's own work (the clock reading it
// takes for its deadline, the timespec).
func BenchmarkWaitTimedReady(b *testing.B) { benchWaitReady(b, time.Second) }

// benchWaitReady Waits with timeout for the one ready fd of a Poll.
func benchWaitReady(b *testing.B, timeout time.Duration) {
	p := newPoll(b)
	r, w := pipe(b)
	register(b, p, r, 1, Readable)
	write(b, w, "x")
	events := make([]Event, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N { // not b.Loop: go.mod says go 1.23
		events, _ = p.Wait(events, timeout)
		if len(events) != 1 {
			b.Fatalf("%d events", len(events))
		}
	}
}

// BenchmarkRawEpollPwait is the floor for BenchmarkWait: the same call with
// nothing around it.
func BenchmarkRawEpollPwait(b *testing.B) {
	p := newPoll(b)
	r, w := pipe(b)
	register(b, p, r, 1, Readable)
	write(b, w, "x")
	events := make([]syscall.EpollEvent, 8)
	epfd := uintptr(p.registry.epfd)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N { // not b.Loop: go.mod says go 1.23
		n, _, _ := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, epfd, uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
		if n != 1 {
			b.Fatalf("%d events", n)
		}
	}
}

// BenchmarkRangeTokens ranges over 256 events by value, as event loops
// do, and looks each token up in a table: impl=token with Token, and
// impl=uint64 with the one 8-byte load Token once made, whose load spans
// the two stores of the copy (see Token). On architectures where data is
// an aligned uint64 both are one load.
func BenchmarkRangeTokens(b *testing.B) {
	events := make([]Event, 256)
	for i := range events {
		events[i] = makeEvent(epollIn, Token(i*3))
	}
	table := make([]uint64, 1024)
	for _, impl := range []string{"token", "uint64"} {
		b.Run("impl="+impl, func(b *testing.B) {
			var sum uint64
			for range b.N { // not b.Loop: go.mod says go 1.23
				if impl == "token" {
					for _, ev := range events {
						sum += table[ev.Token()&1023]
					}
				} else {
					for _, ev := range events {
						sum += table[oneLoadToken(ev)&1023]
					}
				}
			}
			if sum == 1 {
				b.Log(sum) // keeps the loops
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
		})
	}
}

// oneLoadToken reads an event's data with one 8-byte load, as Token did
// before it read two halves on amd64 and 386.
func oneLoadToken(ev Event) Token {
	return *(*Token)(unsafe.Add(unsafe.Pointer(&ev), dataOffset))
}

func BenchmarkRegisterDeregister(b *testing.B) {
	p := newPoll(b)
	r, _ := pipe(b)
	reg := p.Registry()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N { // not b.Loop: go.mod says go 1.23
		if err := reg.Register(r, 1, Readable); err != nil {
			b.Fatal(err)
		}
		if err := reg.Deregister(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWakeThenWait(b *testing.B) {
	p := newPoll(b)
	wk, err := NewWaker(p.Registry(), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer wk.Close()
	events := make([]Event, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N { // not b.Loop: go.mod says go 1.23
		if err := wk.Wake(); err != nil {
			b.Fatal(err)
		}
		if events, _ = p.Wait(events, 0); len(events) != 1 {
			b.Fatalf("%d events", len(events))
		}
	}
}

// waitBlocked's promise, that the thread is in a Wait, must not rest on
// the thread merely sleeping: a thread parked on a channel, never having
// called Wait, sleeps too.
func TestWaitBlockedNeedsAnEpollWait(t *testing.T) {
	gate := make(chan struct{})
	tid, done := lockedThread(func() { <-gate })
	// Parked: the thread sleeps in a futex.
	for !threadSleeps(t, tid) {
		time.Sleep(time.Millisecond)
	}
	if sleepsInEpollWait(t, tid) {
		t.Error("a thread parked on a channel is taken for one blocked in Wait")
	}
	close(gate)
	<-done

	p := newPoll(t)
	tid, done = lockedThread(func() { _, _ = p.Wait(make([]Event, 1), Forever) })
	waitBlocked(t, tid)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
}

// threadSleeps reports whether thread tid is in state S; false for a
// thread that has exited.
func threadSleeps(t testing.TB, tid int) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && strings.HasPrefix(s[i+1:], " S")
}
