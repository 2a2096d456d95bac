package epoll

// System call numbers from include/uapi/asm-generic/unistd.h. Like arm64,
// riscv64 has no epoll_create or epoll_wait: only the flag-taking and pwait
// variants exist.
const (
	sysEventfd2     = 19
	sysEpollCreate1 = 20
	sysEpollCtl     = 21
	sysEpollPwait   = 22
	sysFcntl        = 25
	sysIoctl        = 29
	sysClose        = 57
	sysRead         = 63
	sysWrite        = 64
	sysEpollPwait2  = 441
)

// The ioctl request encoding (_IOC), from include/uapi/asm-generic/ioctl.h:
// 14 size bits, then 2 direction bits with write = 1 and read = 2.
const (
	iocSizeBits = 14
	iocWrite    = 1
	iocRead     = 2
)
