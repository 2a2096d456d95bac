package epoll

import (
	"errors"
	"strconv"
	"syscall"
	"unsafe"
)

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
// values with Op "dup" and the original fd, wrapping the Errno; the errors
// of c's SyscallConn and Control (a closed c's, say) are returned as they are.
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
