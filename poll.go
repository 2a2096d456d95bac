// Package epoll is a small Linux event queue on raw epoll system calls, shaped
// like Rust's mio: a Poll owns the epoll instance and waits for events, a
// Registry registers interest in file descriptors from any goroutine, and a
// Waker wakes a blocked Wait.
//
// It needs nothing but the standard library and no assembly: system call
// numbers are declared per architecture (sys_linux_*.go) and the kernel's
// struct epoll_event is mirrored byte for byte by Event, which is 12 bytes on
// amd64 and 386 and 16 bytes elsewhere.
//
// It builds for GOOS=linux on 386, amd64, arm, arm64, loong64, mips, mipsle,
// mips64, mips64le, ppc64, ppc64le, riscv64 and s390x. For any other platform,
// android included, the build fails with "epoll: unsupported platform"; keep
// the package's use in files constrained to linux.
//
// It needs Go 1.23 or later (go.mod's floor, which go vet's stdversion check
// holds the code to) and is tested up to Go 1.27.3. It needs Linux 2.6.27
// for the calls it makes, 4.5 for Exclusive and 5.11 for epoll_pwait2's
// nanosecond timeouts (see WaitPath); busy polling needs 6.9.
package epoll

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Token identifies a registered file descriptor in the events it produces.
// All 64 bits are returned unchanged by the kernel on every architecture.
type Token uint64

// Interest is the set of readiness kinds and the trigger mode of a
// registration. Combine values with |. Level-triggered is the default, as in
// epoll.
type Interest uint32

// The kernel's event bits, from include/uapi/linux/eventpoll.h, the same on
// every architecture. Event.Events returns the first six; the last three are
// the modes behind EdgeTriggered, Oneshot and Exclusive. They are uint32, the
// type of Events, so they combine and compare without conversions: the
// syscall package's EPOLLET is an untyped negative constant on some
// architectures, which uint32(syscall.EPOLLET) refuses to compile.
const (
	EPOLLIN    uint32 = 0x1    // readable
	EPOLLPRI   uint32 = 0x2    // urgent data
	EPOLLOUT   uint32 = 0x4    // writable
	EPOLLERR   uint32 = 0x8    // error condition; always reported
	EPOLLHUP   uint32 = 0x10   // hang-up: both directions closed, or a pipe's other end gone; always reported
	EPOLLRDHUP uint32 = 0x2000 // the peer shut down its writing half (sockets only)

	EPOLLEXCLUSIVE uint32 = 1 << 28
	EPOLLONESHOT   uint32 = 1 << 30
	EPOLLET        uint32 = 1 << 31
)

// Short names for the package and its tests.
const (
	epollIn    = EPOLLIN
	epollPri   = EPOLLPRI
	epollOut   = EPOLLOUT
	epollErr   = EPOLLERR
	epollHup   = EPOLLHUP
	epollRdHup = EPOLLRDHUP

	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3
)

const (
	// Readable asks for events when the fd has data to read. It also asks
	// for a peer's half-close (EPOLLRDHUP), as mio does: a reader wants to
	// know, and a shut-down peer's EOF makes the fd readable anyway, so the
	// extra bit costs no wake-ups. Together with Exclusive it does not, as
	// the kernel refuses to combine the two.
	Readable Interest = Interest(EPOLLIN)
	// Writable asks for events when the fd can be written without blocking.
	Writable Interest = Interest(EPOLLOUT)
	// Priority asks for urgent data events, such as TCP out-of-band data.
	Priority Interest = Interest(EPOLLPRI)
	// ReadClosed asks for a peer's half-close (EPOLLRDHUP) explicitly. It
	// is for registrations without Readable, such as Writable|ReadClosed
	// for a socket the program only writes to: it learns that the peer has
	// stopped sending without being woken for every byte it sends. With
	// Readable it changes nothing. The kernel refuses it with Exclusive
	// (EINVAL); Readable|Exclusive simply goes without it.
	ReadClosed Interest = Interest(EPOLLRDHUP)

	// EdgeTriggered reports a readiness change once, instead of on every
	// Wait while the fd stays ready. Drain the fd until EAGAIN after each
	// event, or the next one may never come.
	EdgeTriggered Interest = Interest(EPOLLET)
	// Oneshot disables the registration after its first event; Reregister
	// arms it again.
	Oneshot Interest = Interest(EPOLLONESHOT)
	// Exclusive wakes only one of several Polls waiting on the same fd, to
	// avoid a thundering herd. It cannot be used with Reregister, Oneshot,
	// Priority or an epoll fd; the kernel answers EINVAL.
	Exclusive Interest = Interest(EPOLLEXCLUSIVE)
)

const interestMask = Readable | Writable | Priority | ReadClosed | EdgeTriggered | Oneshot | Exclusive

// Forever is a Wait timeout without a deadline: Wait returns with events or
// ErrClosed only. It is the largest Duration, which no arithmetic on real
// deadlines produces by accident, unlike the -1 of epoll_wait.
const Forever = time.Duration(math.MaxInt64)

// maxTimeout is the longest timeout epoll_pwait can express: MaxInt32
// milliseconds, about 24.8 days. Wait treats it and anything longer as
// Forever on both wait paths, so that what a timeout means does not depend
// on which path the process ended up on.
const maxTimeout = math.MaxInt32 * time.Millisecond

// ErrClosed is returned, wrapped in an *OpError, by every call on a Poll or
// Waker after it has been closed, and by a Wait that Close interrupted.
var ErrClosed = errors.New("use of closed epoll instance")

// OpError reports a failed operation. It names the operation and the file
// descriptor it was applied to, and wraps the cause: a syscall.Errno or
// ErrClosed, so errors.Is(err, syscall.EPERM) and errors.Is(err, ErrClosed)
// work. For "setbusypoll" and "busypoll" the Errno is wrapped once more, in
// an error that says what it means there (see ErrBusyPollUnsupported).
type OpError struct {
	Op  string // "epoll_create1", "register", "reregister", "deregister", "wait", "eventfd2", "wake", "close", "dup", "setbusypoll" or "busypoll"
	Fd  int    // the registered fd, or the epoll or eventfd for the other operations
	Err error  // a syscall.Errno or ErrClosed, or an error wrapping an Errno

	note string // replaces the errno's usual hint when the cause is known better
}

func (e *OpError) Error() string {
	s := "epoll: " + e.Op + " fd " + strconv.Itoa(e.Fd) + ": " + e.Err.Error()
	if hint := e.hint(); hint != "" {
		s += " (" + hint + ")"
	}
	return s
}

// Unwrap returns the underlying syscall.Errno or ErrClosed.
func (e *OpError) Unwrap() error { return e.Err }

// hint explains the errno values users meet most, in their own terms.
func (e *OpError) hint() string {
	if e.note != "" {
		return e.note
	}
	errno, _ := e.Err.(syscall.Errno)
	switch {
	case errno == syscall.EPERM && e.Op == "register":
		return "this kind of file cannot be polled: regular files and directories are always ready"
	case errno == syscall.EEXIST:
		return "already registered: use Reregister to change it"
	case errno == syscall.ENOENT:
		return "not registered"
	case errno == syscall.EBADF:
		return "not an open file descriptor"
	case errno == syscall.EINVAL && e.Op == "register":
		return "the epoll fd itself, unknown interest bits, or Exclusive with Oneshot, Priority, ReadClosed or an epoll fd"
	case errno == syscall.EINVAL && e.Op == "reregister":
		return "unknown interest bits, or Exclusive, which cannot be reregistered"
	case errno == syscall.EINVAL && e.Op == "wait":
		return "the events slice has no capacity"
	case errno == syscall.ELOOP:
		return "registering this epoll fd would make a cycle or nest too deep"
	}
	return ""
}

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

// Poll owns an epoll instance. Usually one goroutine, the event loop, calls
// Wait, though several may (see Wait); the Registry may be used from any
// goroutine, also while Wait is blocked. Make a Poll with New: the zero
// value behaves as a closed one.
type Poll struct {
	registry Registry
}

// Registry registers interest in file descriptors with a Poll. Its methods
// are safe for concurrent use, also while another goroutine is in Wait.
type Registry struct {
	epfd    int
	closeFd int // eventfd that Close writes to end a blocked Wait; ctl refuses it
	life    lifetime
	wakers  wakerSet

	closeMu   sync.Mutex  // serializes Close, so that a failed one can be retried
	closeDone bool        // Close has released both fds
	closeLost atomic.Bool // closeFd's number no longer names our eventfd: never write to or close it
	lossTold  bool        // a Close has reported closeLost
}

// New creates a Poll with epoll_create1(EPOLL_CLOEXEC).
func New() (*Poll, error) {
	// Raw: it allocates an instance and its file, and waits for nothing.
	epfd, errno := rawSyscall(sysEpollCreate1, syscall.O_CLOEXEC, 0, 0)
	if errno != 0 {
		return nil, &OpError{Op: "epoll_create1", Fd: -1, Err: errno}
	}
	closeFd, err := newEventfd()
	if err != nil {
		closeUnused(epfd)
		return nil, err
	}
	probePwait2(int(epfd))
	p := &Poll{registry: Registry{epfd: int(epfd), closeFd: -1, life: newLifetime()}}
	// Level-triggered and never read: once Close writes it, every wait
	// returns at once. Its token is irrelevant because Wait reports
	// ErrClosed, not events, after Close.
	if err := p.registry.ctl("register", epollCtlAdd, closeFd, epollIn, 0); err != nil {
		closeUnused(uintptr(closeFd))
		closeUnused(epfd)
		return nil, err
	}
	p.registry.closeFd = closeFd
	return p, nil
}

// Registry returns the Poll's registry.
func (p *Poll) Registry() *Registry { return &p.registry }

// Fd returns the epoll instance's file descriptor, or -1 once the Poll is
// closed (or for a zero Poll). It is for nesting the Poll in another epoll
// instance, or for parking it in Go's netpoller through a dup passed to
// os.NewFile (see the example): the fd becomes readable when Wait would
// return events. It stays the Poll's: do not close it, and stop using it
// before Close, which closes it and frees the number for reuse.
func (p *Poll) Fd() int {
	r := &p.registry
	if r.life.drained == nil || r.life.closed() {
		return -1
	}
	return r.epfd
}

// DupFd returns a close-on-exec file descriptor for c's open file,
// non-blocking wherever that matters, owned by the caller, for registering a net.Conn, net.Listener or
// *os.File (any syscall.Conn). It is the safe way to take an fd from the
// standard library: (*os.File).Fd(), and Fd() on what (*net.TCPConn).File()
// returns, put the open file description, which c shares, into blocking
// mode, and a number borrowed inside Control is closed by c's Close or its
// finalizer, after which it can be reused under a live registration. The
// new fd is made inside SyscallConn().Control, so c cannot close its
// number meanwhile.
//
// DupFd never changes c's file. O_NONBLOCK belongs to the open file
// description, which a dup shares, so what it returns depends on the file:
//
//   - Already non-blocking (sockets and listeners from net, pipes from
//     os.Pipe): an F_DUPFD_CLOEXEC dup, sharing c's file description.
//   - A regular file or directory: the same dup, left blocking: their reads
//     never wait for data, so O_NONBLOCK would change nothing, and epoll
//     refuses them (Register answers EPERM).
//   - A blocking pipe, FIFO or terminal (os.Stdin on a terminal, a pty's
//     slave, a pipe wrapped by os.NewFile or given to exec.Cmd): a private
//     open file description of the same file, opened through
//     /proc/self/fd/N with c's access mode, O_NONBLOCK and O_CLOEXEC (and
//     O_NOCTTY for a terminal). It is not a dup: its file offset, and flags
//     set later with fcntl, are its own. It needs /proc mounted; opening a
//     pipe's or FIFO's write end fails with ENXIO once no reader is left.
//   - Any other blocking file: a blocking socket (as from
//     (*net.TCPConn).File() once its Fd() was called), a pty's master
//     (reopening it would make a new pty), an eventfd or other anonymous
//     file, a device other than a terminal: an error wrapping EOPNOTSUPP
//     that says why, and c's file unchanged. Make such a file non-blocking
//     yourself, if its other users can live with that, and call DupFd
//     again.
//
// Keep c alive as the returned fd's owner, leave c's own Read, Write and
// Accept unused while that fd is in the loop (Go's netpoller may still
// watch c's fd, and the two would compete for the same bytes), and
// Deregister and close that fd before closing c. Errors are *OpError
// values with Op "dup" and the original fd, wrapping the Errno; Control's
// own error is returned as it is.
func DupFd(c syscall.Conn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(orig uintptr) {
		fd, dupErr = ownNonblocking(int(orig)) //nolint:gosec // G115: an fd fits in an int
	}); err != nil {
		return -1, err
	}
	return fd, dupErr
}

// ownNonblocking is DupFd's work on c's fd, which Control keeps open.
func ownNonblocking(orig int) (int, error) {
	fail := func(errno syscall.Errno, note string) (int, error) {
		return -1, &OpError{Op: "dup", Fd: orig, Err: errno, note: note}
	}
	flags, errno := fcntl(orig, syscall.F_GETFL, 0)
	if errno != 0 {
		return fail(errno, "")
	}
	dup := func() (int, error) {
		dup, errno := fcntl(orig, syscall.F_DUPFD_CLOEXEC, 0)
		if errno != 0 {
			return fail(errno, "")
		}
		return dup, nil
	}
	if flags&syscall.O_NONBLOCK != 0 {
		return dup() // it shares the flag, which is already what it needs
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(orig, &st); err != nil {
		return fail(errnoOf(err), "")
	}
	mode := flags&syscall.O_ACCMODE | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG, syscall.S_IFDIR:
		// Reads never wait for data to come, so the flag would change
		// nothing; and epoll refuses them, which Register explains.
		return dup()
	case syscall.S_IFIFO: // a pipe or a FIFO
	case syscall.S_IFCHR:
		if !isTerminal(orig) {
			return fail(syscall.EOPNOTSUPP, "a blocking device that is not a terminal: DupFd does not reopen it, and a dup sharing its blocking mode would stall the loop")
		}
		if isPtyMaster(orig) {
			return fail(syscall.EOPNOTSUPP, "a blocking pty master: reopening it would make a new pty, and a dup sharing its blocking mode would stall the loop")
		}
		mode |= syscall.O_NOCTTY // never become the process's controlling terminal
	case syscall.S_IFSOCK:
		return fail(syscall.EOPNOTSUPP, "a blocking socket: a socket cannot be reopened, and making it non-blocking would change the caller's file too")
	default:
		return fail(syscall.EOPNOTSUPP, "a blocking file that is not a pipe, FIFO, terminal or socket: it cannot be reopened, and making it non-blocking would change the caller's file too")
	}
	// Opening the /proc link opens the file itself, not a path that may
	// have been renamed or unlinked since.
	fd, err := syscall.Open("/proc/self/fd/"+strconv.Itoa(orig), mode, 0)
	if err != nil {
		return fail(errnoOf(err), "reopening /proc/self/fd/"+strconv.Itoa(orig)+" for a private open file description failed")
	}
	// The same file, or a device that makes a new one on each open.
	var st2 syscall.Stat_t
	if err := syscall.Fstat(fd, &st2); err != nil || st2.Dev != st.Dev || st2.Ino != st.Ino || st2.Rdev != st.Rdev {
		closeUnused(uintptr(fd))
		return fail(syscall.EOPNOTSUPP, "reopening /proc/self/fd/"+strconv.Itoa(orig)+" gave another file")
	}
	return fd, nil
}

// fcntl makes an fcntl call with an integer argument.
func fcntl(fd, cmd, arg int) (int, syscall.Errno) {
	r, _, errno := syscall.Syscall(sysFcntl, uintptr(fd), uintptr(cmd), uintptr(arg)) //nolint:gosec // G115: fds and fcntl's int arguments fit
	return int(r), errno                                                              //nolint:gosec // G115: fcntl returns an int
}

// isTerminal reports whether fd is a terminal: TCGETS works only there.
func isTerminal(fd int) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(sysIoctl, uintptr(fd), syscall.TCGETS, uintptr(unsafe.Pointer(&t))) //nolint:gosec // G115: an fd fits
	return errno == 0
}

// isPtyMaster reports whether fd is a pty's master: TIOCGPTN, which reports
// the number of its slave, works only there.
func isPtyMaster(fd int) bool {
	var n uint32
	_, _, errno := syscall.Syscall(sysIoctl, uintptr(fd), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))) //nolint:gosec // G115: an fd fits
	return errno == 0
}

// errnoOf returns the Errno of an error from the syscall package, which is
// always one, or EIO for anything else.
func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
}

// Register asks for events of interest i on fd, reported with token t.
func (r *Registry) Register(fd int, t Token, i Interest) error {
	return r.ctl("register", epollCtlAdd, fd, r.events(i), t)
}

// Reregister replaces the token and interest of a registered fd. It also
// re-arms a Oneshot registration.
func (r *Registry) Reregister(fd int, t Token, i Interest) error {
	return r.ctl("reregister", epollCtlMod, fd, r.events(i), t)
}

// Deregister removes fd from the Poll. No events for it are reported by later
// Waits. Call it before closing fd.
//
// The kernel keys a registration on the open file and the fd number
// together, and ends it by itself only when the last descriptor of that open
// file is closed. An fd closed while a dup, a child process or an *os.File
// still holds its file stays registered, reporting events under its old
// token, and Deregister can no longer reach it: the closed number gives
// EBADF, and a new file that reused the number is a different registration
// (ENOENT, or, if it was registered too, that one is removed).
func (r *Registry) Deregister(fd int) error {
	return r.ctl("deregister", epollCtlDel, fd, 0, 0)
}

// events maps an Interest to the kernel's event bits, or to an invalid value
// that ctl rejects.
func (r *Registry) events(i Interest) uint32 {
	if i&^interestMask != 0 {
		return math.MaxUint32 // unknown bits, EPOLLRDHUP among them: ctl answers EINVAL
	}
	events := uint32(i)
	if i&Readable != 0 && i&Exclusive == 0 {
		events |= epollRdHup
	}
	return events
}

func (r *Registry) ctl(op string, ctlOp int, fd int, events uint32, t Token) error {
	// Closed first: a zero Registry's fields name fd 0, and its fd 0 is
	// not the problem.
	if !r.life.acquire() {
		return &OpError{Op: op, Fd: fd, Err: ErrClosed}
	}
	var errno syscall.Errno
	switch {
	case fd < 0 || fd > math.MaxInt32:
		// The kernel reads an int; a larger value would be truncated into
		// some other, possibly open, fd.
		errno = syscall.EBADF
	case fd == r.closeFd && r.ownCloseFd():
		// Whoever passes closeFd holds a stale number: unregistering it
		// would leave Close unable to wake a blocked Wait. Once the number
		// names another file, it is the caller's to use.
		r.life.release()
		return &OpError{Op: op, Fd: fd, Err: syscall.EBADF, note: "the Poll's own eventfd, which Close needs: this fd number is stale"}
	case events&^uint32(interestMask) != 0:
		errno = syscall.EINVAL
	default:
		errno = epollCtl(r.epfd, ctlOp, fd, events, t)
	}
	r.life.release()
	if errno != 0 {
		return &OpError{Op: op, Fd: fd, Err: errno}
	}
	return nil
}

// ownCloseFd reports whether closeFd's number still names the Poll's own
// eventfd, and records for good when it does not. The kernel keys a
// registration on the open file and the number together, so a
// modification that changes nothing answers ENOENT once the number names
// another file, EBADF once it names none (and EINVAL, EPERM for files that
// cannot be ours). It must not be asked once the answer was no: the number
// may then be registered for its new file, which the modification would
// change.
func (r *Registry) ownCloseFd() bool {
	if r.closeLost.Load() {
		return false
	}
	if epollCtl(r.epfd, epollCtlMod, r.closeFd, epollIn, 0) != 0 {
		r.closeLost.Store(true)
		return false
	}
	return true
}

func epollCtl(epfd, ctlOp, fd int, events uint32, t Token) syscall.Errno {
	ev := makeEvent(events, t)
	evp := &ev
	if ctlOp == epollCtlDel {
		evp = nil
	}
	// Not RawSyscall6: epoll_ctl can sleep for as long as somebody else
	// likes. ADD and MOD call the file's poll hook, which for a FUSE file
	// is a request to the daemon (perhaps a goroutine of this very
	// program, which could not run while a raw call kept the world from
	// stopping for GC) and for a tty waits for its flush work; and every op
	// takes the instance's mutex, which another thread holds across such a
	// hook. Telling the scheduler costs a few percent of a call.
	_, _, errno := syscall.Syscall6(sysEpollCtl, uintptr(epfd), uintptr(ctlOp), uintptr(fd), uintptr(unsafe.Pointer(evp)), 0, 0)
	return errno
}

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
// timeout and Forever behave the same on both.)
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

// eintrRetries counts waits interrupted by a signal and retried; tests use it
// to show that a signal really arrived.
var eintrRetries atomic.Uint64

// testHookWaitCall, when a test sets it, is called before each system call
// of a Wait with a positive timeout (the non-blocking looks included), so
// tests can count them.
var testHookWaitCall func(*Poll)

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
// Before it sleeps, a Wait with a positive timeout looks once without
// blocking and then yields (runtime.Gosched), as gnet's loop does: an event
// loop whose next event is microseconds away then sleeps less, and the
// runtime no longer takes its P away while it sleeps (see BENCHMARKS.md).
// It costs an idle wait one more system call and a yield, a few hundred
// nanoseconds, before the sleep.
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
		return events, &OpError{Op: "wait", Fd: r.epfd, Err: ErrClosed}
	}
	var n int
	errno := syscall.EINVAL // unless the slice has capacity
	if slots := min(cap(events), maxEvents); slots > 0 {
		buf := unsafe.SliceData(events)
		if timeout <= 0 {
			// An event loop's most frequent call. It cannot block, so the
			// scheduler needn't be told, and no signal can interrupt it.
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

// pollsBeforeBlocking is how many non-blocking looks a blocking Wait takes,
// each followed by a runtime.Gosched, before it sleeps in the kernel. It is
// a variable only so that BenchmarkBlockingWaitEcho can measure the path
// without them (0) in the same run.
var pollsBeforeBlocking = 1

// waitBlocking waits for events in buf[:slots] for up to timeout, which is
// positive, or forever if it is maxTimeout or more. A signal's EINTR is
// retried against the original deadline; Close ends the wait through its
// eventfd.
//
// It looks without blocking first and yields once before it blocks, as
// gnet's loop does. A goroutine blocked in a system call keeps its P until
// sysmon retakes it: after 20 µs to 10 ms (sysmon's tick), or at once when
// the goroutine has run for 10 ms without passing through the scheduler,
// which an event loop that only ever blocks in system calls never does.
// The retaken P goes to a thread woken with a futex, which finds nothing
// to run and sleeps again; the waiter comes back without a P and takes one
// through the scheduler's lock; and each retake keeps sysmon at its 20 µs
// tick, so that the next long wait is retaken too. An event loop whose
// next event is microseconds away paid that on many of its waits. The
// look catches a ready event without telling the scheduler, and the yield
// puts the loop through the scheduler before every sleep. BENCHMARKS.md
// has the measurements.
func (p *Poll) waitBlocking(buf *Event, slots int, timeout time.Duration) (int, syscall.Errno) {
	forever := timeout >= maxTimeout
	var start time.Time
	if !forever {
		start = time.Now()
	}
	for range pollsBeforeBlocking {
		if testHookWaitCall != nil {
			testHookWaitCall(p)
		}
		// A zero timeout cannot block, so the scheduler needn't be told.
		n, _, errno := syscall.RawSyscall6(sysEpollPwait, uintptr(p.registry.epfd), uintptr(unsafe.Pointer(buf)), uintptr(slots), 0, 0, 0)
		if errno != 0 || n > 0 {
			return int(n), errno
		}
		runtime.Gosched()
	}
	remaining := timeout
	if !forever {
		// The yield may have run other goroutines for a while.
		if remaining = timeout - time.Since(start); remaining <= 0 {
			return 0, 0
		}
	}
	for {
		if testHookWaitCall != nil {
			testHookWaitCall(p)
		}
		n, errno := p.waitOnce(buf, slots, remaining)
		switch {
		case errno == syscall.EINTR:
			eintrRetries.Add(1)
		case errno != 0 || n > 0:
			return n, errno
		}
		if p.registry.life.closed() {
			return 0, 0
		}
		if !forever {
			// Time spent before the signal or an early wake-up counts.
			if remaining = timeout - time.Since(start); remaining <= 0 {
				return 0, 0
			}
		}
	}
}

// waitOnce makes one epoll_pwait2 or epoll_pwait call into buf[:slots],
// with no timeout if timeout is maxTimeout or more.
func (p *Poll) waitOnce(buf *Event, slots int, timeout time.Duration) (int, syscall.Errno) {
	epfd := uintptr(p.registry.epfd)
	if !pwait2Missing.Load() {
		ts := timespec{sec: int64(timeout / time.Second), nsec: int64(timeout % time.Second)}
		tsp := &ts
		if timeout >= maxTimeout {
			tsp = nil // no deadline
		}
		n, _, errno := syscall.Syscall6(sysEpollPwait2, epfd, uintptr(unsafe.Pointer(buf)), uintptr(slots), uintptr(unsafe.Pointer(tsp)), 0, 0)
		if errno != syscall.ENOSYS && errno != syscall.EPERM {
			return int(n), errno
		}
		pwait2Missing.Store(true)
	}
	// uintptr(int32) sign-extends, so -1 reaches the kernel's int as -1.
	n, _, errno := syscall.Syscall6(sysEpollPwait, epfd, uintptr(unsafe.Pointer(buf)), uintptr(slots), uintptr(msTimeout(timeout)), 0, 0) //nolint:gosec // G115: the sign extension is wanted

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

// Close closes the epoll instance. Every Wait blocked in another goroutine
// returns ErrClosed, and Close returns only after every call using the epoll
// fd has left it, so the fd number cannot be reused under them. Calls made
// once Close has begun return ErrClosed.
//
// Close is idempotent: once one Close has finished, later calls return nil.
// Concurrent calls wait for the first. Errors are *OpError values with Op
// "close".
//
// Close survives the loss of the Poll's own eventfd, the one it writes to
// end blocked Waits, to code that closes a stale fd number. Before it writes
// to that number, and again before it closes it, Close asks the kernel
// whether the number still names that eventfd. If it does not (it is closed,
// or reused by another file), Close never writes to or closes the number,
// wakes the Waits through a new eventfd instead, finishes, and reports an
// error wrapping EBADF for a closed number or ENOENT for one reused by
// another file. Only if it cannot wake them does it return
// before finishing; a later Close tries again.
func (p *Poll) Close() error {
	r := &p.registry
	if r.life.drained == nil {
		return nil // the zero Poll: its fields name fd 0, not ours
	}
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	if r.closeDone {
		return nil
	}
	r.life.close()
	var err error
	ownFd, wakeFd := r.closeFd, -1
	if r.ownCloseFd() {
		if errno := addEventfd(r.closeFd); errno != 0 {
			err = &OpError{Op: "close", Fd: r.closeFd, Err: errno, note: "writing the Poll's own eventfd failed"}
			r.closeLost.Store(true)
		}
	} else if !r.lossTold {
		err = r.lostCloseFd()
	}
	if r.closeLost.Load() {
		r.lossTold = true
		ownFd = -1
		var err2 error
		if wakeFd, err2 = wakeWaits(r.epfd); err2 != nil {
			return errors.Join(err, err2) // retried by the next Close
		}
	}
	r.life.waitDrained()
	if ownFd >= 0 && !r.ownCloseFd() {
		// Lost between the write and now: leave the number alone.
		ownFd = -1
		err = r.lostCloseFd()
		r.lossTold = true
	}
	for _, fd := range []int{ownFd, wakeFd, r.epfd} {
		if fd < 0 {
			continue
		}
		if err2 := closeFd("close", fd); err == nil {
			err = err2
		}
	}
	r.closeDone = true
	return err
}

// lostCloseFd is Close's error once closeFd's number is known not to name
// the Poll's eventfd. The probe may not be repeated (see ownCloseFd), so
// F_GETFD tells the two cases apart: EBADF if the number is closed, ENOENT
// if another file has it.
func (r *Registry) lostCloseFd() error {
	errno, note := syscall.ENOENT, "the Poll's own eventfd was closed elsewhere and its number reused by another file, which Close left alone"
	if _, e := fcntl(r.closeFd, syscall.F_GETFD, 0); e == syscall.EBADF {
		errno, note = syscall.EBADF, "the Poll's own eventfd was closed elsewhere"
	}
	return &OpError{Op: "close", Fd: r.closeFd, Err: errno, note: note}
}

// wakeWaits ends the Waits on epfd through a new eventfd, for a Close whose
// own eventfd is gone, and returns the new eventfd for closing afterwards.
func wakeWaits(epfd int) (int, error) {
	// Raw: see newEventfd.
	fd, errno := rawSyscall(sysEventfd2, 1, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0) // counter 1: readable at once
	if errno != 0 {
		return -1, &OpError{Op: "close", Fd: -1, Err: errno, note: "no eventfd to wake the Waits with"}
	}
	if errno := epollCtl(epfd, epollCtlAdd, int(fd), epollIn, 0); errno != 0 {
		closeUnused(fd)
		return -1, &OpError{Op: "close", Fd: int(fd), Err: errno}
	}
	return int(fd), nil
}

// Waker wakes a Poll's Wait from another goroutine: Wait reports an event
// with the Waker's token. It is an eventfd registered edge-triggered, so any
// number of Wakes before a Wait coalesce into one event, and receiving it
// costs the waiting side no extra system call.
type Waker struct {
	fd       int
	registry *Registry
	life     lifetime
	// pending is set by the Wake that writes the eventfd and cleared by
	// Wait once the kernel has returned events: while it is set, a write
	// is on its way or its event not yet handed to the caller, so later
	// Wakes need none of their own.
	pending atomic.Bool
}

// NewWaker creates a Waker registered with r under token t.
func NewWaker(r *Registry, t Token) (*Waker, error) {
	fd, err := newEventfd()
	if err != nil {
		return nil, err
	}
	if err := r.Register(fd, t, Readable|EdgeTriggered); err != nil {
		closeUnused(uintptr(fd))
		return nil, err
	}
	w := &Waker{fd: fd, registry: r, life: newLifetime()}
	r.wakers.add(w)
	return w, nil
}

// Wake makes the Poll's current or next Wait report the Waker's token. It is
// safe to call from any goroutine. After the Waker or its Poll is closed it
// returns ErrClosed.
//
// Wake is not a synchronization point in the Go memory model: a plain
// variable written before Wake and read once Wait has reported the token is
// a data race, which -race reports. Hand the data over through a channel
// (as ExampleNewWaker does), a mutex or an atomic value:
//
//	mu.Lock()
//	queue = append(queue, job)
//	mu.Unlock()
//	waker.Wake()
//
// and in the event loop, on the Waker's token:
//
//	mu.Lock()
//	jobs := queue
//	queue = nil
//	mu.Unlock()
func (w *Waker) Wake() error {
	if !w.life.acquire() {
		return &OpError{Op: "wake", Fd: w.fd, Err: ErrClosed}
	}
	defer w.life.release()
	if w.registry.life.closed() {
		return &OpError{Op: "wake", Fd: w.fd, Err: ErrClosed}
	}
	// A Wake that finds one pending makes no system call: the pending
	// one's event is still to be handed to the Wait's caller, who will
	// see whatever this Wake's caller did before it. The Load first keeps
	// a storm of Wakes reading a shared cache line instead of fighting
	// over it with CAS.
	if w.pending.Load() || !w.pending.CompareAndSwap(false, true) {
		return nil
	}
	if err := writeEventfd(w.fd); err != nil {
		w.pending.Store(false) // no event is coming: let the next Wake try
		return err
	}
	return nil
}

// Close deregisters and closes the Waker. Later Wakes return ErrClosed.
// Close is idempotent: later calls return nil.
func (w *Waker) Close() error {
	if !w.life.close() {
		return nil
	}
	w.life.waitDrained()
	w.registry.wakers.remove(w)
	err := w.registry.Deregister(w.fd)
	if errors.Is(err, ErrClosed) {
		err = nil // the Poll is gone, and the registration with it
	}
	if err2 := closeFd("close", w.fd); err == nil {
		err = err2
	}
	return err
}

// wakerSet is the Wakers registered with a Poll, which Wait re-arms. The
// list is copied on change, so Wait reads it with one atomic load, and with
// no Wakers that load is all it costs.
type wakerSet struct {
	list atomic.Pointer[[]*Waker]
	mu   sync.Mutex // serializes changes
}

func (s *wakerSet) add(w *Waker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*Waker
	if old := s.list.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, w)
	s.list.Store(&list)
}

func (s *wakerSet) remove(w *Waker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.list.Load()
	if old == nil {
		return
	}
	list := slices.DeleteFunc(slices.Clone(*old), func(x *Waker) bool { return x == w })
	if len(list) == 0 {
		s.list.Store(nil)
		return
	}
	s.list.Store(&list)
}

// rearm clears every Waker's pending flag. Wait calls it after the kernel
// has returned events and before it hands them to its caller; the order is
// what keeps a wake from being lost:
//
//   - Cleared after the return from the kernel: every write made before the
//     clear was either reported by this return, or is still in the kernel's
//     ready list for the next Wait. A Wake after the clear writes anew.
//   - Cleared before the caller handles the events: a Wake that found the
//     flag set did its work (queued a task, say) before the clear, so the
//     caller, handling events after it, sees that work. Clearing after
//     handling would let such a Wake slip in between the caller's last look
//     at its queue and the clear: it would write nothing, and its task
//     would wait for some later, unrelated event.
//
// A clear on a return that did not include the Waker's event, while its
// write is still to come, only costs a later Wake a redundant write.
func (s *wakerSet) rearm() {
	list := s.list.Load()
	if list == nil {
		return
	}
	for _, w := range *list {
		if w.pending.Load() {
			w.pending.Store(false)
		}
	}
}

func newEventfd() (int, error) {
	// Raw: it allocates a counter and its file, and waits for nothing.
	fd, errno := rawSyscall(sysEventfd2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		return -1, &OpError{Op: "eventfd2", Fd: -1, Err: errno}
	}
	return int(fd), nil
}

// writeEventfd adds 1 to an eventfd's counter for Wake.
func writeEventfd(fd int) error {
	if errno := addEventfd(fd); errno != 0 {
		return &OpError{Op: "wake", Fd: fd, Err: errno}
	}
	return nil
}

// addEventfd adds 1 to an eventfd's counter. The counter saturates only
// after 2^64-2 writes nobody read; then it is read back to 0 and written again.
//
// Raw: the fd is one of the package's eventfds, all O_NONBLOCK, whose read
// and write take only the counter's spinlock and answer EAGAIN instead of
// sleeping; the wake-up they cause runs epoll's callback, which takes
// spinlocks only. (Close first checks that the number still names its
// eventfd; see ownCloseFd.)
func addEventfd(fd int) syscall.Errno {
	one := uint64(1)
	for {
		_, _, errno := syscall.RawSyscall(sysWrite, uintptr(fd), uintptr(unsafe.Pointer(&one)), 8)
		if errno != syscall.EAGAIN {
			return errno
		}
		// Saturated: reset the counter. EAGAIN means another reader
		// just did.
		var count uint64
		if _, _, errno := syscall.RawSyscall(sysRead, uintptr(fd), uintptr(unsafe.Pointer(&count)), 8); errno != 0 && errno != syscall.EAGAIN {
			return errno
		}
	}
}

// closeFd closes fd with syscall.Syscall, not RawSyscall, as every close in
// the package does: the last close of an epoll fd tears down each of its
// registrations (about 0.35 µs apiece, milliseconds for tens of thousands),
// and a raw call would keep the runtime from stopping this thread for GC
// all that time, stalling every goroutine of the program.
func closeFd(op string, fd int) error {
	if _, _, errno := syscall.Syscall(sysClose, uintptr(fd), 0, 0); errno != 0 {
		return &OpError{Op: op, Fd: fd, Err: errno}
	}
	return nil
}

// closeUnused closes an fd the package has just created, on the error path
// of the call that created it. Its error is dropped: the caller reports the
// error that matters, and Linux frees the number even when close fails.
func closeUnused(fd uintptr) { _, _, _ = syscall.Syscall(sysClose, fd, 0, 0) }

// rawSyscall is for calls without pointer arguments: a pointer converted to
// uintptr must be converted in the syscall.RawSyscall expression itself.
// It is only for calls that wait for nothing, so that hiding them from the
// scheduler cannot stall a GC's stop of the world: each caller says why.
func rawSyscall(nr, a1, a2, a3 uintptr) (uintptr, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(nr, a1, a2, a3)
	return r, errno
}

// Events returns the kernel's event bits: EPOLLIN, EPOLLOUT and the other
// EPOLL* constants of this package. The Is* methods interpret them; Events is
// for what they do not say, such as EPOLLHUP apart from EPOLLRDHUP.
func (e Event) Events() uint32 { return e.events }

// IsReadable reports whether the fd has data to read (EPOLLIN).
func (e Event) IsReadable() bool { return e.events&epollIn != 0 }

// IsWritable reports whether the fd can be written (EPOLLOUT).
func (e Event) IsWritable() bool { return e.events&epollOut != 0 }

// IsError reports an error condition on the fd (EPOLLERR), such as a failed
// connect; read it with getsockopt(SO_ERROR).
func (e Event) IsError() bool { return e.events&epollErr != 0 }

// IsPriority reports urgent data (EPOLLPRI).
func (e Event) IsPriority() bool { return e.events&epollPri != 0 }

// IsReadClosed reports that the read side is closed: the peer shut down its
// writing half (EPOLLRDHUP, asked for by Readable or ReadClosed), or the fd
// hung up (EPOLLHUP). Reads return what is left, then EOF.
func (e Event) IsReadClosed() bool { return e.events&(epollHup|epollRdHup) != 0 }

// IsWriteClosed reports that the write side is closed: the fd hung up, or
// writing failed (for a pipe, the reader is gone).
func (e Event) IsWriteClosed() bool {
	return e.events&epollHup != 0 || e.events&(epollOut|epollErr) == epollOut|epollErr || e.events == epollErr
}

// String names the token and the kernel's event bits, for logs and tests.
func (e Event) String() string {
	return "{Token: " + strconv.FormatUint(uint64(e.Token()), 10) + ", Events: " + flagNames(e.events, eventNames) + "}"
}

// String names the interest flags, such as "Readable|EdgeTriggered".
func (i Interest) String() string { return flagNames(uint32(i), interestNames) }

type flagName struct {
	bit  uint32
	name string
}

var eventNames = []flagName{
	{epollIn, "EPOLLIN"}, {epollPri, "EPOLLPRI"}, {epollOut, "EPOLLOUT"},
	{epollErr, "EPOLLERR"}, {epollHup, "EPOLLHUP"}, {0x20, "EPOLLNVAL"},
	{0x40, "EPOLLRDNORM"}, {0x80, "EPOLLRDBAND"}, {0x100, "EPOLLWRNORM"},
	{0x200, "EPOLLWRBAND"}, {0x400, "EPOLLMSG"}, {epollRdHup, "EPOLLRDHUP"},
}

var interestNames = []flagName{
	{uint32(Readable), "Readable"}, {uint32(Writable), "Writable"},
	{uint32(Priority), "Priority"}, {uint32(ReadClosed), "ReadClosed"},
	{uint32(EdgeTriggered), "EdgeTriggered"}, {uint32(Oneshot), "Oneshot"},
	{uint32(Exclusive), "Exclusive"},
}

func flagNames(bits uint32, names []flagName) string {
	var parts []string
	for _, f := range names {
		if bits&f.bit != 0 {
			parts = append(parts, f.name)
			bits &^= f.bit
		}
	}
	if bits != 0 || len(parts) == 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(bits), 16))
	}
	return strings.Join(parts, "|")
}
