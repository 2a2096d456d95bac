// Package epoll is a small Linux event queue on raw epoll system calls, shaped
// like Rust's mio: a Poll owns the epoll instance and waits for events, a
// Registry registers interest in file descriptors from any goroutine, and a
// Waker wakes a blocked Wait.
//
// It needs nothing but the standard library and no assembly: system call
// numbers are declared per architecture (sys_linux_*.go) and the kernel's
// struct epoll_event is mirrored byte for byte by Event, which is 12 bytes on
// amd64 and 386 and 16 bytes elsewhere.
//
// It builds for GOOS=linux on 386, amd64, arm, arm64, loong64, mips, mipsle,
// mips64, mips64le, ppc64, ppc64le, riscv64 and s390x. For any other platform,
// android included, the build fails with "epoll: unsupported platform"; keep
// the package's use in files constrained to linux.
//
// It needs Go 1.23 or later (go.mod's floor, which go vet's stdversion check
// holds the code to) and is tested up to Go 1.27.3. It needs Linux 2.6.27
// for the calls it makes, 4.5 for Exclusive and 5.11 for epoll_pwait2's
// nanosecond timeouts (see WaitPath); busy polling needs 6.9.
package epoll
