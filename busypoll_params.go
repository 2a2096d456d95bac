package epoll

import "unsafe"

// epollParams mirrors the kernel's struct epoll_params (Linux 6.9+,
// include/uapi/linux/eventpoll.h), which EPIOCSPARAMS and EPIOCGPARAMS copy
// in and out of an epoll fd:
//
//	struct epoll_params {
//		__u32 busy_poll_usecs;
//		__u16 busy_poll_budget;
//		__u8 prefer_busy_poll;
//		__u8 __pad;
//	};
//
// Unlike struct epoll_event (event_packed.go, event_aligned.go) it has one
// layout on every architecture, so one file serves all: each field sits at
// a multiple of its own size and the whole is a multiple of the largest, so
// no C ABI inserts padding, and the struct is not EPOLL_PACKED, so x86-64
// does not differ either. Go's layout rules give the same offsets. The
// fields are in native byte order, as the kernel reads them.
type epollParams struct {
	usecs  uint32
	budget uint16
	prefer uint8
	pad    uint8 // the kernel refuses non-zero: room for a future field
}

const epollParamsSize = 8

// Fail to compile if the layout drifts from the kernel's.
var (
	_ [unsafe.Sizeof(epollParams{}) - epollParamsSize]byte
	_ [epollParamsSize - unsafe.Sizeof(epollParams{})]byte
	_ [unsafe.Offsetof(epollParams{}.budget) - 4]byte
	_ [4 - unsafe.Offsetof(epollParams{}.budget)]byte
	_ [unsafe.Offsetof(epollParams{}.prefer) - 6]byte
	_ [6 - unsafe.Offsetof(epollParams{}.prefer)]byte
	_ [unsafe.Offsetof(epollParams{}.pad) - 7]byte
	_ [7 - unsafe.Offsetof(epollParams{}.pad)]byte
)
