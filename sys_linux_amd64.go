package epoll

// System call numbers from arch/x86/entry/syscalls/syscall_64.tbl.
const (
	sysRead         = 0
	sysWrite        = 1
	sysClose        = 3
	sysEpollCtl     = 233
	sysEpollPwait   = 281
	sysEventfd2     = 290
	sysEpollCreate1 = 291
	sysEpollPwait2  = 441
)
