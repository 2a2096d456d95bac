//go:build !linux || android || !(386 || amd64 || arm || arm64 || loong64 || mips || mipsle || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x)

package epoll

// This package wraps Linux epoll with hand-declared system call numbers, so
// it builds only for GOOS=linux on the architectures that have a
// sys_linux_*.go file; the build constraint above is the complement of that
// list. Anywhere else the build stops at the constant below, whose message is
// the first error the compiler prints, instead of producing a package that
// could only fail at run time. Programs that also build for other systems
// keep their use of this package in files constrained to linux.
//
// The file's name sorts before every other: the compiler checks package-level
// declarations file by file in name order, and the constants of busypoll.go,
// say, use per-arch names that are undefined here, so their errors would
// come first (internal/arch's TestRefusedBuildStopsAtTheMessage checks).
//
// Android (which satisfies the linux build tag) is refused too: it is
// untested, and its app seccomp policy kills a process that makes a system
// call the policy does not list (epoll_pwait2 on older releases) instead of
// answering ENOSYS or EPERM, which Wait's fallback relies on.
const _ = "epoll: unsupported platform: needs GOOS=linux on 386, amd64, arm, arm64, loong64, mips, mipsle, mips64, mips64le, ppc64, ppc64le, riscv64 or s390x" + 0
