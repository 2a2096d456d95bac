//go:build linux && (mips || mipsle)

package epoll

// System call numbers for the MIPS o32 ABI: the index in
// arch/mips/kernel/syscalls/syscall_o32.tbl plus 4000 (__NR_Linux), the same
// for big- and little-endian mips.
const (
	sysRead         = 4003
	sysWrite        = 4004
	sysClose        = 4006
	sysIoctl        = 4054
	sysFcntl        = 4055
	sysEpollCtl     = 4249
	sysEpollPwait   = 4313
	sysEventfd2     = 4325
	sysEpollCreate1 = 4326
	sysEpollPwait2  = 4441
)

// The ioctl request encoding (_IOC), from arch/mips/include/uapi/asm/ioctl.h,
// which overrides the generic one: 13 size bits, then 3 direction bits with
// write = 4 and read = 2.
const (
	iocSizeBits = 13
	iocWrite    = 4
	iocRead     = 2
)
