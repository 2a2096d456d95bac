package epoll

// System call numbers from arch/x86/entry/syscalls/syscall_64.tbl.
const (
	sysRead         = 0
	sysWrite        = 1
	sysClose        = 3
	sysIoctl        = 16
	sysFcntl        = 72
	sysEpollCtl     = 233
	sysEpollPwait   = 281
	sysEventfd2     = 290
	sysEpollCreate1 = 291
	sysEpollPwait2  = 441
)

// The ioctl request encoding (_IOC), from include/uapi/asm-generic/ioctl.h:
// 14 size bits, then 2 direction bits with write = 1 and read = 2.
const (
	iocSizeBits = 14
	iocWrite    = 1
	iocRead     = 2
)
