package epoll

// System call numbers from arch/x86/entry/syscalls/syscall_32.tbl.
const (
	sysRead         = 3
	sysWrite        = 4
	sysClose        = 6
	sysEpollCtl     = 255
	sysEpollPwait   = 319
	sysEventfd2     = 328
	sysEpollCreate1 = 329
	sysEpollPwait2  = 441
)
