package epoll

// System call numbers from arch/x86/entry/syscalls/syscall_32.tbl.
const (
	sysRead         = 3
	sysWrite        = 4
	sysClose        = 6
	sysIoctl        = 54
	sysFcntl        = 55
	sysEpollCtl     = 255
	sysEpollPwait   = 319
	sysEventfd2     = 328
	sysEpollCreate1 = 329
	sysEpollPwait2  = 441
)

// The ioctl request encoding (_IOC), from include/uapi/asm-generic/ioctl.h:
// 14 size bits, then 2 direction bits with write = 1 and read = 2.
const (
	iocSizeBits = 14
	iocWrite    = 1
	iocRead     = 2
)
