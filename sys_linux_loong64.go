package epoll

// System call numbers from include/uapi/asm-generic/unistd.h. Like arm64,
// loong64 has no epoll_create or epoll_wait: only the flag-taking and pwait
// variants exist.
const (
	sysEventfd2     = 19
	sysEpollCreate1 = 20
	sysEpollCtl     = 21
	sysEpollPwait   = 22
	sysClose        = 57
	sysRead         = 63
	sysWrite        = 64
	sysEpollPwait2  = 441
)
