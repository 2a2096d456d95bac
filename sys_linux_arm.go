package epoll

// System call numbers from arch/arm/tools/syscall.tbl (EABI, the only ARM ABI
// Go supports).
const (
	sysRead         = 3
	sysWrite        = 4
	sysClose        = 6
	sysIoctl        = 54
	sysFcntl        = 55
	sysEpollCtl     = 251
	sysEpollPwait   = 346
	sysEventfd2     = 356
	sysEpollCreate1 = 357
	sysEpollPwait2  = 441
)

// The ioctl request encoding (_IOC), from include/uapi/asm-generic/ioctl.h:
// 14 size bits, then 2 direction bits with write = 1 and read = 2.
const (
	iocSizeBits = 14
	iocWrite    = 1
	iocRead     = 2
)
