package epoll

import (
	"errors"
	"math"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// BusyPoll holds the NAPI busy-poll settings of one Poll (Linux 6.9+). With
// busy polling on, a Wait that finds no event first polls the receive queue
// of the network device its sockets' packets arrive on, instead of sleeping
// until an interrupt, which trades CPU time for lower latency.
//
// It only helps sockets whose packets come through a NAPI-capable device
// queue: the kernel learns the queue from the registered sockets' NAPI ids.
// Loopback, Unix sockets, pipes and eventfds have none, so for them the
// settings change nothing (and this package has measured no latency benefit:
// its machines have no such device). The zero BusyPoll leaves everything to
// the system-wide net.core.busy_poll sysctl, as a new Poll does.
type BusyPoll struct {
	// Timeout is how long a Wait busy-polls before it sleeps. The kernel
	// keeps whole microseconds: a finer Timeout is rounded up, so a
	// positive one never becomes 0. 0 means the net.core.busy_poll sysctl's
	// value (0 by default: off). At most math.MaxInt32 µs (about 35m47s).
	Timeout time.Duration
	// Budget is the most packets one busy-poll pass may process. 0 means
	// the kernel's default, 8. Above 64 (NAPI_POLL_WEIGHT) the kernel
	// requires CAP_NET_ADMIN in the initial user namespace and answers
	// EPERM without it, even for root in a container's user namespace.
	// At most 65535.
	Budget int
	// Prefer asks the kernel to prefer busy polling to interrupt-driven
	// processing of the device queue. From Linux 6.13 it also turns busy
	// polling on by itself, and lets the kernel suspend the queue's
	// interrupts while the application keeps polling (if the device's
	// irq-suspend-timeout is set).
	Prefer bool
}

// ErrBusyPollUnsupported is matched, with errors.Is, by the errors of
// SetBusyPoll and BusyPoll where busy polling is not available: kernels
// before 6.9 (ENOTTY), kernels built without CONFIG_NET_RX_BUSY_POLL
// (EOPNOTSUPP), and emulators that do not implement the ioctls, such as
// qemu-user (ENOSYS). The error still wraps the syscall.Errno too.
var ErrBusyPollUnsupported = errors.New("busy polling not supported here")

// The request numbers, from include/uapi/linux/eventpoll.h:
//
//	#define EPIOCSPARAMS _IOW(EPOLL_IOC_TYPE, 0x01, struct epoll_params)
//	#define EPIOCGPARAMS _IOR(EPOLL_IOC_TYPE, 0x02, struct epoll_params)
//
// _IOC(dir, type, nr, size) packs nr in bits 0-7, type in bits 8-15, size
// from bit 16 and the direction above the size. How many size bits there
// are, and so where the direction starts, and the direction values are
// per-arch facts declared in sys_linux_*.go: bit 30 with write = 1 on most
// arches, bit 29 with write = 4 on mips and powerpc. So EPIOCSPARAMS is
// 0x40088a01 on most and 0x80088a01 on those, and EPIOCGPARAMS the other
// way round.
const (
	epollIocType = 0x8a
	iocDirShift  = 16 + iocSizeBits
	epiocSParams = iocWrite<<iocDirShift | epollParamsSize<<16 | epollIocType<<8 | 0x01
	epiocGParams = iocRead<<iocDirShift | epollParamsSize<<16 | epollIocType<<8 | 0x02
)

// Fail to compile if the size does not fit the size field.
var _ [1<<iocSizeBits - 1 - epollParamsSize]byte

// Kernel limits, from fs/eventpoll.c.
const (
	maxBusyPollUsecs  = math.MaxInt32  // busy_poll_usecs > S32_MAX: EINVAL
	maxBusyPollBudget = math.MaxUint16 // the field is a __u16
	napiPollWeight    = 64             // a larger budget needs CAP_NET_ADMIN
)

// SetBusyPoll sets the Poll's busy-poll parameters with the EPIOCSPARAMS
// ioctl. Once the Poll is closed (and on a zero Poll) it returns ErrClosed,
// whatever b holds, as every other call does. Values the kernel would refuse or could not hold (a negative
// Timeout or Budget, a Timeout above math.MaxInt32 µs, a Budget above
// 65535) are refused before the call with an error wrapping EINVAL that
// says which limit was hit. A Budget above 64 is left to the kernel, which
// answers EPERM without CAP_NET_ADMIN; its refusals are explained the same
// way. Where busy polling is not available the error matches
// ErrBusyPollUnsupported. A refused call changes nothing.
func (p *Poll) SetBusyPoll(b BusyPoll) error {
	const op = "setbusypoll"
	r := &p.registry
	// Closed first, as everywhere: b's faults do not matter to a closed
	// Poll. busyPollIoctl checks again, against a Close meanwhile.
	if r.life.drained == nil || r.life.closed() {
		return &OpError{Op: op, Fd: r.life.fdOf(r.epfd), Err: ErrClosed}
	}
	var params epollParams
	switch {
	case b.Timeout < 0:
		return &OpError{Op: op, Fd: r.epfd, Err: &busyPollError{syscall.EINVAL, "Timeout " + b.Timeout.String() + " is negative"}}
	case b.Budget < 0:
		return &OpError{Op: op, Fd: r.epfd, Err: &busyPollError{syscall.EINVAL, "Budget " + strconv.Itoa(b.Budget) + " is negative"}}
	case b.Budget > maxBusyPollBudget:
		return &OpError{Op: op, Fd: r.epfd, Err: &busyPollError{syscall.EINVAL, "Budget " + strconv.Itoa(b.Budget) + " is above " + strconv.Itoa(maxBusyPollBudget) + ", the most the kernel's 16-bit field holds"}}
	}
	usecs := b.Timeout / time.Microsecond
	if b.Timeout%time.Microsecond != 0 {
		usecs++
	}
	if usecs > maxBusyPollUsecs {
		return &OpError{Op: op, Fd: r.epfd, Err: &busyPollError{syscall.EINVAL, "Timeout " + b.Timeout.String() + " is " + strconv.FormatInt(int64(usecs), 10) + "µs, above the kernel's limit of " + strconv.Itoa(maxBusyPollUsecs) + "µs"}}
	}
	params.usecs = uint32(usecs)
	params.budget = uint16(b.Budget)
	if b.Prefer {
		params.prefer = 1
	}
	return r.busyPollIoctl(op, epiocSParams, &params)
}

// BusyPoll returns the Poll's busy-poll parameters, read with the
// EPIOCGPARAMS ioctl. A new Poll reports the zero BusyPoll. Where busy
// polling is not available the error matches ErrBusyPollUnsupported.
func (p *Poll) BusyPoll() (BusyPoll, error) {
	var params epollParams
	if err := p.registry.busyPollIoctl("busypoll", epiocGParams, &params); err != nil {
		return BusyPoll{}, err
	}
	return BusyPoll{
		Timeout: time.Duration(params.usecs) * time.Microsecond,
		Budget:  int(params.budget),
		Prefer:  params.prefer != 0,
	}, nil
}

func (r *Registry) busyPollIoctl(op string, req uintptr, params *epollParams) error {
	if !r.life.acquire() {
		return &OpError{Op: op, Fd: r.life.fdOf(r.epfd), Err: ErrClosed}
	}
	// Raw: both requests copy 8 bytes in or out and store or load three
	// fields, without a lock or a wait, so the scheduler needn't be told.
	_, _, errno := syscall.RawSyscall(sysIoctl, uintptr(r.epfd), req, uintptr(unsafe.Pointer(params)))
	r.life.release()
	if errno == 0 {
		return nil
	}
	return &OpError{Op: op, Fd: r.epfd, Err: &busyPollError{errno, busyPollReason(errno, params)}}
}

// busyPollReason says what a kernel's errno means for a busy-poll ioctl.
func busyPollReason(errno syscall.Errno, params *epollParams) string {
	switch {
	case errno == syscall.ENOTTY:
		return "not supported: busy polling needs Linux 6.9 or later"
	case errno == syscall.EOPNOTSUPP:
		return "not supported: the kernel was built without CONFIG_NET_RX_BUSY_POLL"
	case errno == syscall.ENOSYS:
		return "not supported: the ioctl is not implemented here, as under qemu-user"
	case errno == syscall.EPERM && params != nil && params.budget > napiPollWeight:
		return "Budget " + strconv.Itoa(int(params.budget)) + " is above " + strconv.Itoa(napiPollWeight) + ", which needs CAP_NET_ADMIN in the initial user namespace"
	case errno == syscall.EINVAL:
		return "the kernel refused a value or did not know the request"
	}
	return ""
}

// busyPollError is an OpError's Err for the busy-poll calls: the errno,
// and what it means here.
type busyPollError struct {
	errno syscall.Errno
	why   string
}

func (e *busyPollError) Error() string {
	if e.why == "" {
		return e.errno.Error()
	}
	return e.errno.Error() + " (" + e.why + ")"
}

// Unwrap returns the syscall.Errno.
func (e *busyPollError) Unwrap() error { return e.errno }

// Is matches ErrBusyPollUnsupported for the errnos that mean it.
func (e *busyPollError) Is(target error) bool {
	return target == ErrBusyPollUnsupported &&
		(e.errno == syscall.ENOTTY || e.errno == syscall.EOPNOTSUPP || e.errno == syscall.ENOSYS)
}
