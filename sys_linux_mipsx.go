//go:build linux && (mips || mipsle)

package epoll

// System call numbers for the MIPS o32 ABI: the index in
// arch/mips/kernel/syscalls/syscall_o32.tbl plus 4000 (__NR_Linux), the same
// for big- and little-endian mips.
const (
	sysRead         = 4003
	sysWrite        = 4004
	sysClose        = 4006
	sysEpollCtl     = 4249
	sysEpollPwait   = 4313
	sysEventfd2     = 4325
	sysEpollCreate1 = 4326
	sysEpollPwait2  = 4441
)
