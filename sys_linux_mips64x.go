//go:build linux && (mips64 || mips64le)

package epoll

// System call numbers for the MIPS n64 ABI: the index in
// arch/mips/kernel/syscalls/syscall_n64.tbl plus 5000 (__NR_Linux), the same
// for big- and little-endian mips64.
const (
	sysRead         = 5000
	sysWrite        = 5001
	sysClose        = 5003
	sysEpollCtl     = 5208
	sysEpollPwait   = 5272
	sysEventfd2     = 5284
	sysEpollCreate1 = 5285
	sysEpollPwait2  = 5441
)
