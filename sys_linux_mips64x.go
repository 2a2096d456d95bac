//go:build linux && (mips64 || mips64le)

package epoll

// System call numbers for the MIPS n64 ABI: the index in
// arch/mips/kernel/syscalls/syscall_n64.tbl plus 5000 (__NR_Linux), the same
// for big- and little-endian mips64.
const (
	sysRead         = 5000
	sysWrite        = 5001
	sysClose        = 5003
	sysIoctl        = 5015
	sysFcntl        = 5070
	sysEpollCtl     = 5208
	sysEpollPwait   = 5272
	sysEventfd2     = 5284
	sysEpollCreate1 = 5285
	sysEpollPwait2  = 5441
)

// The ioctl request encoding (_IOC), from arch/mips/include/uapi/asm/ioctl.h,
// which overrides the generic one: 13 size bits, then 3 direction bits with
// write = 4 and read = 2.
const (
	iocSizeBits = 13
	iocWrite    = 4
	iocRead     = 2
)
