package epoll

import (
	"errors"
	"strconv"
	"syscall"
)

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
