package epoll

// The Poll: New, which makes the epoll instance and the eventfd that Close
// writes, and the Close path. Close's side of the race with every other
// call is stated in lifetime.go; here is what it does in that protocol:
// mark the lifetime closed, wake the Waits through its eventfd (or a new
// one if that number was lost), wait until no call is in flight, then
// close the fds.

import (
	"errors"
	"syscall"
)

// Poll owns an epoll instance. Usually one goroutine, the event loop, calls
// Wait, though several may (see Wait); the Registry may be used from any
// goroutine, also while Wait is blocked. Make a Poll with New: the zero
// value behaves as a closed one.
type Poll struct {
	registry Registry
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
	// Errors name epfd, the fd Close closes: the new eventfd is none of the
	// caller's business, and closed again already.
	if errno != 0 {
		return -1, &OpError{Op: "close", Fd: epfd, Err: errno, note: "no eventfd to wake the Waits with"}
	}
	if errno := epollCtl(epfd, epollCtlAdd, int(fd), epollIn, 0); errno != 0 {
		closeUnused(fd)
		return -1, &OpError{Op: "close", Fd: epfd, Err: errno, note: "registering an eventfd to wake the Waits with failed"}
	}
	return int(fd), nil
}
