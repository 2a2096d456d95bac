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
package epoll

import (
	"errors"
	"math"
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

// Kernel event bits from include/uapi/linux/eventpoll.h; the same on every
// architecture. The syscall package's EPOLLET is negative on some
// architectures, hence our own uint32 values.
const (
	epollIn        = 0x1
	epollPri       = 0x2
	epollOut       = 0x4
	epollErr       = 0x8
	epollHup       = 0x10
	epollRdHup     = 0x2000
	epollExclusive = 1 << 28
	epollOneshot   = 1 << 30
	epollET        = 1 << 31

	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3
)

const (
	// Readable asks for events when the fd has data to read. With it the
	// kernel is also asked to report a peer's half-close (EPOLLRDHUP), except
	// together with Exclusive, which the kernel refuses to combine with it.
	Readable Interest = epollIn
	// Writable asks for events when the fd can be written without blocking.
	Writable Interest = epollOut
	// Priority asks for urgent data events, such as TCP out-of-band data.
	Priority Interest = epollPri

	// EdgeTriggered reports a readiness change once, instead of on every
	// Wait while the fd stays ready. Drain the fd until EAGAIN after each
	// event, or the next one may never come.
	EdgeTriggered Interest = epollET
	// Oneshot disables the registration after its first event; Reregister
	// arms it again.
	Oneshot Interest = epollOneshot
	// Exclusive wakes only one of several Polls waiting on the same fd, to
	// avoid a thundering herd. It cannot be used with Reregister, Oneshot,
	// Priority or an epoll fd; the kernel answers EINVAL.
	Exclusive Interest = epollExclusive
)

const interestMask = Readable | Writable | Priority | EdgeTriggered | Oneshot | Exclusive

// Forever is a Wait timeout that blocks until an event arrives.
const Forever time.Duration = -1

// ErrClosed is returned, wrapped in an *OpError, by every call on a Poll or
// Waker after it has been closed, and by a Wait that Close interrupted.
var ErrClosed = errors.New("use of closed epoll instance")

// OpError reports a failed operation. It names the operation and the file
// descriptor it was applied to, and wraps the cause: a syscall.Errno or
// ErrClosed, so errors.Is(err, syscall.EPERM) and errors.Is(err, ErrClosed)
// work. For "setbusypoll" and "busypoll" the Errno is wrapped once more, in
// an error that says what it means there (see ErrBusyPollUnsupported).
type OpError struct {
	Op  string // "epoll_create1", "register", "reregister", "deregister", "wait", "eventfd2", "wake", "close", "setbusypoll" or "busypoll"
	Fd  int    // the registered fd, or the epoll or eventfd for the other operations
	Err error  // a syscall.Errno or ErrClosed, or an error wrapping an Errno
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
		return "the epoll fd itself, unknown interest bits, or Exclusive with Oneshot, Priority or an epoll fd"
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

func (l *lifetime) release() {
	if l.state.Add(^uint64(0)) == closedBit {
		select {
		case l.drained <- struct{}{}:
		default: // Close has a wake-up pending already.
		}
	}
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

// Poll owns an epoll instance. Wait is meant to be called by one goroutine
// at a time, the event loop; the Registry may be used from any goroutine,
// also while Wait is blocked. Make a Poll with New: the zero value behaves
// as a closed one.
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
}

// New creates a Poll with epoll_create1(EPOLL_CLOEXEC).
func New() (*Poll, error) {
	epfd, errno := rawSyscall(sysEpollCreate1, syscall.O_CLOEXEC, 0, 0)
	if errno != 0 {
		return nil, &OpError{Op: "epoll_create1", Fd: -1, Err: errno}
	}
	closeFd, err := newEventfd()
	if err != nil {
		rawSyscall(sysClose, epfd, 0, 0)
		return nil, err
	}
	p := &Poll{registry: Registry{epfd: int(epfd), closeFd: -1, life: newLifetime()}}
	// Level-triggered and never read: once Close writes it, every wait
	// returns at once. Its token is irrelevant because Wait reports
	// ErrClosed, not events, after Close.
	if err := p.registry.ctl("register", epollCtlAdd, closeFd, epollIn, 0); err != nil {
		rawSyscall(sysClose, uintptr(closeFd), 0, 0)
		rawSyscall(sysClose, epfd, 0, 0)
		return nil, err
	}
	p.registry.closeFd = closeFd
	return p, nil
}

// Registry returns the Poll's registry.
func (p *Poll) Registry() *Registry { return &p.registry }

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
// Waits. Closing fd removes it too, unless the file is still open through
// another descriptor (a dup or a child process): then the kernel keeps
// reporting it until Deregister.
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
	if fd < 0 || fd > math.MaxInt32 || fd == r.closeFd {
		// The kernel reads an int; a larger value would be truncated into
		// some other, possibly open, fd. Whoever passes closeFd holds a
		// stale number: unregistering it would leave Close unable to wake
		// a blocked Wait.
		return &OpError{Op: op, Fd: fd, Err: syscall.EBADF}
	}
	if events&^uint32(interestMask|epollRdHup) != 0 {
		return &OpError{Op: op, Fd: fd, Err: syscall.EINVAL}
	}
	if !r.life.acquire() {
		return &OpError{Op: op, Fd: fd, Err: ErrClosed}
	}
	ev := makeEvent(events, t)
	evp := &ev
	if ctlOp == epollCtlDel {
		evp = nil
	}
	// epoll_ctl never blocks, so the scheduler needn't be told.
	_, _, errno := syscall.RawSyscall6(sysEpollCtl, uintptr(r.epfd), uintptr(ctlOp), uintptr(fd), uintptr(unsafe.Pointer(evp)), 0, 0)
	r.life.release()
	if errno != 0 {
		return &OpError{Op: op, Fd: fd, Err: errno}
	}
	return nil
}

// maxEvents is the kernel's EP_MAX_EVENTS: more slots are refused with EINVAL.
const maxEvents = math.MaxInt32 / eventSize

// pwait2Missing records that epoll_pwait2 answered ENOSYS (kernels before
// 5.11, qemu-user before 11.0) or EPERM (seccomp profiles that predate it),
// so later timed waits go straight to epoll_pwait.
var pwait2Missing atomic.Bool

// eintrRetries counts waits interrupted by a signal and retried; tests use it
// to show that a signal really arrived.
var eintrRetries atomic.Uint64

// testHookWaitCall, when a test sets it, is called before each system call
// of a Wait with a non-zero timeout, so tests can count them.
var testHookWaitCall func(*Poll)

// Wait blocks until at least one event is ready or timeout has passed, and
// returns events[:n] holding the n events the kernel filled in. Up to
// cap(events) events are returned; len(events) is ignored, so the same
// buffer can be passed again: events, err = p.Wait(events, timeout).
//
// A negative timeout (Forever) blocks until an event arrives; 0 never
// blocks. Positive timeouts have nanosecond precision where the kernel has
// epoll_pwait2, and are rounded up to whole milliseconds elsewhere, so a
// short timeout never becomes a busy loop. Signals do not end a Wait early:
// it retries against the original deadline and never returns EINTR.
//
// Only one goroutine should call Wait at a time. If Close is called during
// Wait, Wait returns an error wrapping ErrClosed.
func (p *Poll) Wait(events []Event, timeout time.Duration) ([]Event, error) {
	events = events[:0]
	r := &p.registry
	if !r.life.acquire() {
		return events, &OpError{Op: "wait", Fd: r.epfd, Err: ErrClosed}
	}
	var n int
	var errno syscall.Errno = syscall.EINVAL // unless the slice has capacity
	if slots := min(cap(events), maxEvents); slots > 0 {
		buf := unsafe.SliceData(events)
		if timeout == 0 {
			// An event loop's most frequent call. It cannot block, so the
			// scheduler needn't be told, and no signal can interrupt it.
			var r1 uintptr
			r1, _, errno = syscall.RawSyscall6(sysEpollPwait, uintptr(r.epfd), uintptr(unsafe.Pointer(buf)), uintptr(slots), 0, 0, 0)
			n = int(r1)
		} else {
			n, errno = p.waitBlocking(buf, slots, timeout)
		}
	}
	closed := r.life.closed()
	r.life.release()
	switch {
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

// waitBlocking waits for events in buf[:slots] for up to timeout, or forever
// if it is negative. A signal's EINTR is retried against the original
// deadline; Close ends the wait through its eventfd.
func (p *Poll) waitBlocking(buf *Event, slots int, timeout time.Duration) (int, syscall.Errno) {
	var start time.Time
	if timeout > 0 {
		start = time.Now()
	}
	remaining := timeout
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
		if timeout > 0 {
			// Time spent before the signal or an early wake-up counts.
			if remaining = timeout - time.Since(start); remaining <= 0 {
				return 0, 0
			}
		}
	}
}

// waitOnce makes one epoll_pwait2 or epoll_pwait call into buf[:slots].
func (p *Poll) waitOnce(buf *Event, slots int, timeout time.Duration) (int, syscall.Errno) {
	epfd := uintptr(p.registry.epfd)
	if timeout > 0 && !pwait2Missing.Load() {
		ts := timespec{sec: int64(timeout / time.Second), nsec: int64(timeout % time.Second)}
		n, _, errno := syscall.Syscall6(sysEpollPwait2, epfd, uintptr(unsafe.Pointer(buf)), uintptr(slots), uintptr(unsafe.Pointer(&ts)), 0, 0)
		if errno != syscall.ENOSYS && errno != syscall.EPERM {
			return int(n), errno
		}
		pwait2Missing.Store(true)
	}
	n, _, errno := syscall.Syscall6(sysEpollPwait, epfd, uintptr(unsafe.Pointer(buf)), uintptr(slots), uintptr(msTimeout(timeout)), 0, 0)
	return int(n), errno
}

// timespec is the kernel's struct __kernel_timespec: two 64-bit fields on
// every architecture, 32-bit ones included.
type timespec struct {
	sec  int64
	nsec int64
}

// msTimeout converts a timeout to epoll_pwait's int milliseconds: negative
// stays -1 (forever), and positive values round up so they never become 0.
func msTimeout(d time.Duration) int32 {
	if d < 0 {
		return -1
	}
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return int32(min(ms, math.MaxInt32))
}

// Close closes the epoll instance. A Wait blocked in another goroutine
// returns ErrClosed, and Close returns only after every call using the epoll
// fd has left it, so the fd number cannot be reused under them. Close is
// idempotent: later calls, even concurrent ones, return nil at once without
// waiting for the first to finish.
func (p *Poll) Close() error {
	r := &p.registry
	if !r.life.close() {
		return nil
	}
	if err := writeEventfd(r.closeFd); err != nil {
		return err
	}
	r.life.waitDrained()
	err := closeFd("close", r.closeFd)
	if err2 := closeFd("close", r.epfd); err == nil {
		err = err2
	}
	return err
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
		rawSyscall(sysClose, uintptr(fd), 0, 0)
		return nil, err
	}
	w := &Waker{fd: fd, registry: r, life: newLifetime()}
	r.wakers.add(w)
	return w, nil
}

// Wake makes the Poll's current or next Wait report the Waker's token. It is
// safe to call from any goroutine. After the Waker or its Poll is closed it
// returns ErrClosed.
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
	fd, errno := rawSyscall(sysEventfd2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		return -1, &OpError{Op: "eventfd2", Fd: -1, Err: errno}
	}
	return int(fd), nil
}

// writeEventfd adds 1 to an eventfd's counter. The counter saturates only
// after 2^64-2 writes nobody read; then it is read back to 0 and written again.
func writeEventfd(fd int) error {
	one := uint64(1)
	for {
		_, _, errno := syscall.RawSyscall(sysWrite, uintptr(fd), uintptr(unsafe.Pointer(&one)), 8)
		if errno != syscall.EAGAIN {
			if errno != 0 {
				return &OpError{Op: "wake", Fd: fd, Err: errno}
			}
			return nil
		}
		var count uint64
		syscall.RawSyscall(sysRead, uintptr(fd), uintptr(unsafe.Pointer(&count)), 8)
	}
}

func closeFd(op string, fd int) error {
	if _, errno := rawSyscall(sysClose, uintptr(fd), 0, 0); errno != 0 {
		return &OpError{Op: op, Fd: fd, Err: errno}
	}
	return nil
}

// rawSyscall is for calls without pointer arguments: a pointer converted to
// uintptr must be converted in the syscall.RawSyscall expression itself.
func rawSyscall(nr, a1, a2, a3 uintptr) (uintptr, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(nr, a1, a2, a3)
	return r, errno
}

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
// writing half, or the fd hung up. Reads return what is left, then EOF.
func (e Event) IsReadClosed() bool {
	return e.events&epollHup != 0 || e.events&(epollIn|epollRdHup) == epollIn|epollRdHup
}

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
	{uint32(Priority), "Priority"}, {uint32(EdgeTriggered), "EdgeTriggered"},
	{uint32(Oneshot), "Oneshot"}, {uint32(Exclusive), "Exclusive"},
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
