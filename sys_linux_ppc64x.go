//go:build linux && (ppc64 || ppc64le)

package epoll

// System call numbers from arch/powerpc/kernel/syscalls/syscall.tbl, the same
// for big- and little-endian ppc64.
const (
	sysRead         = 3
	sysWrite        = 4
	sysClose        = 6
	sysEpollCtl     = 237
	sysEpollPwait   = 303
	sysEventfd2     = 314
	sysEpollCreate1 = 315
	sysEpollPwait2  = 441
)
