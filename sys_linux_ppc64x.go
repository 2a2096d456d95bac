//go:build linux && (ppc64 || ppc64le)

package epoll

// System call numbers from arch/powerpc/kernel/syscalls/syscall.tbl, the same
// for big- and little-endian ppc64.
const (
	sysRead         = 3
	sysWrite        = 4
	sysClose        = 6
	sysIoctl        = 54
	sysFcntl        = 55
	sysEpollCtl     = 237
	sysEpollPwait   = 303
	sysEventfd2     = 314
	sysEpollCreate1 = 315
	sysEpollPwait2  = 441
)

// The ioctl request encoding (_IOC), from arch/powerpc/include/uapi/asm/ioctl.h,
// which overrides the generic one: 13 size bits, then 3 direction bits with
// write = 4 and read = 2.
const (
	iocSizeBits = 13
	iocWrite    = 4
	iocRead     = 2
)
