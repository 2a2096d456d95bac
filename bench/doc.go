// Package bench compares github.com/rawpoll/epoll with the alternatives a Go
// user has on Linux, doing the same work in the same run:
//
//   - impl=epoll: this package;
//   - impl=raw: syscall.RawSyscall6 (or Syscall6 where the call blocks) of
//     epoll_pwait and epoll_ctl with nothing around it, the floor;
//   - impl=syscall: the standard library's syscall.EpollWait and EpollCtl;
//   - impl=unix: golang.org/x/sys/unix's EpollWait and EpollCtl.
//
// It lives in its own module so that the root module stays dependency-free.
// The benchmarks are in bench_test.go; cmd/netserver is the goroutine-per-
// connection server on package net that cmd/evserver is compared with,
// cmd/gnetserver the same on gnet, cfloor/ the C floor and cmd/gofloor the
// C floor in Go, the ladder's rungs from it to evserver; cmd/idleconns holds idle keep-alive connections open for the memory
// figure, and cmd/benchreport turns a run into BENCHMARKS.md. Run everything
// with scripts/bench.sh from the repository root.
package bench
