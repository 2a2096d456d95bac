package main

// whyEvserverSlept is issue 18's finding. Its figures were measured once,
// by hand, on 2026-12-06 on this 2-core machine while other work loaded it
// (the load average is given with each); the tables above and below are
// this run's.
const whyEvserverSlept = `## Why evserver slept more

**Finding: the Go runtime took the P away from a loop asleep in its blocking
` + "`Wait`" + `, and kept doing so.** Until this change a ` + "`Wait`" + ` with a timeout went straight
into ` + "`epoll_pwait2`" + ` through ` + "`syscall.Syscall6`" + `, which tells the scheduler
(entersyscall) and keeps the goroutine's P while it sleeps. sysmon's ` + "`retake`" + `
(runtime/proc.go) takes such a P in two cases: when the goroutine on it has
not passed through the scheduler for 10 ms (` + "`forcePreemptNS`" + `; the P's
` + "`schedtick`" + ` has not moved), at once if it is then in a system call; and, when
no P is idle, when the same system call is still running one sysmon tick
later. An event loop that does all its waiting in system calls never passes
through the scheduler (exitsyscall's fast path keeps the P and leaves
` + "`schedtick`" + ` alone), so every 10 ms the first case fired. The taken P goes to
` + "`handoffp`" + `, which, with no idle P and no spinning thread, wakes a thread
(` + "`startm`" + `, a futex wake-up) that finds nothing to run and sleeps again
(` + "`stopm`" + `, another futex); the loop, woken, comes back without its P and gets one
through ` + "`exitsyscall`" + `'s slow path and the scheduler's lock. And a retake resets
sysmon's back-off: it sleeps 20 µs instead of up to 10 ms, so the second
case now catches every wait longer than a tick or two, each retake keeps
sysmon fast, and the loops stay in that state under load (the issue's
nanosleep per request is sysmon's tick). gnet's loop escapes it by calling
` + "`runtime.Gosched()`" + ` before every blocking ` + "`epoll_wait`" + ` (pkg/netpoll/poller_epoll_default.go):
its ` + "`schedtick`" + ` moves on every wait, so the 10 ms case never fires and sysmon
stays slow. This is the cost of a blocking system call Go issue 29734
("proposal: syscall: add SyscallBlock") discusses: the runtime cannot tell a
call that will sleep from one that will return, and retakes by polling.

Evidence, one server alive at a time, wrk -t1 -d3s, 2 loops on 2 cores, per request
(` + "`perf stat -e context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_*`" + ` and uprobes on
the runtime, ` + "`perf probe -x BINARY runtime.handoffp`" + ` and so on, counted by the same perf stat):

| 100 connections, load 5.3-6.8 | CPU µs/req | ctx switches/req (perf) | futex | nanosleep (sysmon ticks) | retake calls | handoffp | exitsyscall without P |
|---|--:|--:|--:|--:|--:|--:|--:|
| evserver, Wait blocking at once (before) | 6.54, 7.05 | 0.220, 0.129 | 0.023 | 0.044, 0.054 | 0.044, 0.054 | 0.011 | 0.012 |
| evserver, one look + Gosched + block (now) | 4.40, 4.66 | 0.040, 0.042 | 0.002 | 0.006 | 0.005, 0.006 | 0.001 | 0.001 |
| gnet v2.9.7 | 5.45, 4.11 | 0.042, 0.037 | 0.000-0.007 | 0.001-0.010 | 0.001-0.010 | 0.000-0.002 | 0.000-0.002 |
| C floor (bench/cfloor) | 3.07, 3.29 | 0.209, 0.246 | 0 | 0 | – | – | – |

| 1,000 connections, load 6.8-6.9 | CPU µs/req | ctx switches/req (perf) | futex | nanosleep | handoffp | req in 3 s |
|---|--:|--:|--:|--:|--:|--:|
| evserver before | 7.07 | 0.135 | 0.015 | 0.043 | 0.006 | 139k |
| evserver now | 5.52 | 0.053 | 0.007 | 0.009 | 0.000 | 241k |
| gnet | 6.58 | 0.067 | 0.009 | 0.022 | 0.002 | 257k |
| C floor | 3.89 | 0.227 | 0 | 0 | – | 267k |

Go's execution trace of the same server (a copy of cmd/evserver that runs ` + "`runtime/trace`" + ` for one
second under wrk -t2 -c100, load 7.0; ` + "`go tool trace -d=parsed`" + `, state transitions counted):
before, 9,490 blocking waits, 2,401 of them ended without their P (Syscall→Runnable), 4,045 P stops and
as many starts (retaken, handed to a woken thread, left idle), 104 forced preemptions; now, 38,814 blocking
waits (each after a Gosched), 2 ended without their P, 1 P stop.

What does not help, measured the same way (100 connections, load 4.6-5.9; per request retake calls,
handoffp, CPU µs): one non-blocking look and then block, without the yield, 0.022-0.043, 0.009-0.012,
3.6-5.7 µs; a 3 µs spin instead of the yield, 0.020-0.036, 0.009-0.011; ` + "`sched_yield(2)`" + ` instead, 0.011,
0.001, but 0.26 context switches per request; ` + "`runtime.Gosched`" + ` on every 64th wait only (less often than
every 10 ms at this rate) 0.018-0.038, 0.006-0.010. Only a pass through Go's scheduler before each sleep keeps
sysmon slow, which is why the time the looks buy is not the point.

**The fix is in the package**, since every user of a blocking ` + "`Wait`" + ` paid it: a ` + "`Wait`" + ` with a
positive timeout now makes one non-blocking ` + "`epoll_pwait`" + ` (` + "`RawSyscall6`" + `, timeout 0) and, if
nothing is ready, calls ` + "`runtime.Gosched()`" + ` once, then blocks as before (deadline, signals, Close and
0 allocs unchanged). The trade: an idle wait makes one more system call and a yield, a few hundred
nanoseconds before it sleeps; a Wait with a short timeout counts them against its deadline. In the
fixed-work run (100,000 requests, one at a time on each of 100 connections from a Go client, load 5.7-5.8)
the look is mostly empty: system calls per request went from 2.41 to 2.57 (epoll_pwait +0.26, nanosleep
−0.08, futex −0.02), against gnet's 2.60 and the C floor's 2.33.
BenchmarkBlockingWaitEcho below shows it on the package alone, and cmd/evserver needed no change.

**Where the C floor still wins**: it has no runtime, so its threads sleep in ` + "`epoll_wait`" + ` every time
(more context switches than the Go servers now) but pays nothing around it: about 0.7× evserver's CPU
per request here, nearly all of it in the kernel. What is left between evserver and the floor is Go's part of each
system call and the scheduler's bookkeeping around the sleeps; the flame graphs below show where.

**Wait(0)**: what it adds to the bare ` + "`RawSyscall6(epoll_pwait)`" + ` is the lifetime's two atomic adds
(acquire and release, which keep Close from closing the fd under a running Wait), a check of the closed
bit that now comes with the second add (` + "`release`" + ` returns it instead of a separate load), the slice's
capacity, one load of the Wakers, and a function call whose frame keeps the arguments across the system
call. Measured by hand (6 alternated rounds, load 11.8-12.2): 1.035-1.151×, median 1.11×, about 25 ns;
BenchmarkLifetime put the two adds alone at 13 ns in that run and a standalone pair of locked adds at
25-31 ns in another, so on this virtualised Xeon the adds are half or more of the gap. The 1.05× target
(about 10 ns here) would need a lifetime without a locked instruction per call, which Close's guarantee
(never close the number under a running call) rules out in Go, whose atomic stores are locked exchanges on
amd64. The target row above gives this run's figures.
`

// flameGraphs links the pictures scripts/flamegraph.sh draws.
const flameGraphs = `## Flame graphs

[evserver](doc/bench/evserver.svg) and [gnet](doc/bench/gnetserver.svg), each alone under wrk -t2 -c100,
` + "`perf record -F 999 -g`" + ` for 5 seconds, kernel and user stacks; width is the share of samples. Drawn by
` + "`scripts/flamegraph.sh`" + ` (bench/cmd/flamegraph folds ` + "`perf script`" + `); the title of each gives the load
when it was drawn. Both spend most of their samples in the kernel's TCP send path (` + "`write`" + ` → ` + "`tcp_sendmsg`" + `,
which on loopback also delivers the segment to wrk's socket) and in ` + "`read`" + `; the other tower is the
epoll wait and the thread's sleep in ` + "`schedule`" + ` above it (frames are sorted by name, so it stands on
the left in evserver's graph and on the right in gnet's).
`
