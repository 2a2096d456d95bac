package epoll

// System call numbers from arch/arm/tools/syscall.tbl (EABI, the only ARM ABI
// Go supports).
const (
	sysRead         = 3
	sysWrite        = 4
	sysClose        = 6
	sysEpollCtl     = 251
	sysEpollPwait   = 346
	sysEventfd2     = 356
	sysEpollCreate1 = 357
	sysEpollPwait2  = 441
)
