package epoll

// Registering interest: the epoll_ctl path. Each call holds the Poll's
// lifetime (lifetime.go) around its system call, so Close never closes the
// epoll fd under it.

import (
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

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

// epoll_ctl's operations.
const (
	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3
)

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
		return math.MaxUint32 // unknown bits: ctl answers EINVAL
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
