package epoll

// The thin system call helpers the other files share, kept in one file as
// Go's internal/runtime/syscall/linux keeps its calls. The numbers are in
// sys_linux_<arch>.go. The one rule here: syscall.RawSyscall hides the
// thread from the scheduler, which then cannot stop it for a GC, so only a
// call that waits for nothing may be raw, and each raw call says why.

import (
	"syscall"
	"unsafe"
)

func newEventfd() (int, error) {
	// Raw: it allocates a counter and its file, and waits for nothing.
	fd, errno := rawSyscall(sysEventfd2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		return -1, &OpError{Op: "eventfd2", Fd: -1, Err: errno}
	}
	return int(fd), nil
}

// fcntl makes an fcntl call with an integer argument.
func fcntl(fd, cmd, arg int) (int, syscall.Errno) {
	r, _, errno := syscall.Syscall(sysFcntl, uintptr(fd), uintptr(cmd), uintptr(arg)) //nolint:gosec // G115: fds and fcntl's int arguments fit
	return int(r), errno                                                              //nolint:gosec // G115: fcntl returns an int
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
