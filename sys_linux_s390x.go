package epoll

// System call numbers from arch/s390/kernel/syscalls/syscall.tbl.
const (
	sysRead         = 3
	sysWrite        = 4
	sysClose        = 6
	sysEpollCtl     = 250
	sysEpollPwait   = 312
	sysEventfd2     = 323
	sysEpollCreate1 = 327
	sysEpollPwait2  = 441
)
