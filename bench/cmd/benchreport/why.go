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
| evserver, one look + Gosched + block (the first step) | 4.40, 4.66 | 0.040, 0.042 | 0.002 | 0.006 | 0.005, 0.006 | 0.001 | 0.001 |
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
every 10 ms at this rate) 0.018-0.038, 0.006-0.010. Of these, only a pass through Go's scheduler before each
sleep ended the 10 ms case.

**The fix is in the package**, since every user of a blocking ` + "`Wait`" + ` paid it, and it took two steps.
The first (the row "one look + Gosched + block" above) made a ` + "`Wait`" + ` with a positive timeout look once
without blocking and, if nothing was ready, call ` + "`runtime.Gosched()`" + ` before it blocked, as gnet's loop does.
That ended the 10 ms case, but not the second: sysmon still starts at its 20 µs tick whenever a loop
wakes it from its deep sleep (after any idle spell, such as before wrk connects), and from there every
wait longer than a tick is retaken and keeps it fast. Counted every half second (uprobe on
` + "`runtime.handoffp`" + `, wrk -t2 -c100 for 5 s, load 1.2-1.5), the look-and-yield server stayed in that state
for 1 s, 1.5 s, 4 s and the whole 5 s of four runs, at 1,300-1,600 hand-offs and 6,000-7,000 sysmon ticks a
second, and left it by chance: then 0 hand-offs, 100 ticks a second, and 20-30% more requests. gnet
left it within a second in each of three runs.

The second step, which is ` + "`Wait`" + ` now: a blocking ` + "`Wait`" + ` first sleeps up to 10 ms in an
epoll wait made with ` + "`RawSyscall6`" + `, which the scheduler does not see (to it the goroutine is
running), and only a ` + "`Wait`" + ` still empty after that yields and waits on in the scheduler-visible call.
Under load a loop's waits are far shorter, so sysmon finds no P in a system call to take: 0 hand-offs
from the first half second in every run, sysmon at 100 ticks a second. A busy ` + "`Wait`" + ` is one system
call, with no look and no yield. The trade: a goroutine that becomes ready while a loop sleeps may wait
up to those 10 ms for its P (unless another P is free), the time slice Go gives any goroutine before
preempting it; a preemption signal (sysmon's, or a stop-the-world for the GC) ends the raw wait with
EINTR, after which ` + "`Wait`" + ` yields. Deadline, signals, Close and 0 allocs are unchanged, and an idle
` + "`Wait`" + ` costs one more system call, when its first 10 ms run out. A yield before the raw wait measured
a few fewer context switches in evserver at the same CPU (table below), but on a goroutine locked to
its thread a yield is a hand-off of the P to another thread and back, which an event loop that locks
its thread would pay on every ` + "`Wait`" + `, so ` + "`Wait`" + ` does not yield first.

Why 10 ms and not 1: a timeout shorter than the kernel's tick (4 ms here, HZ=250) is the earliest timer on
its CPU, so every sleep programs it into the timer hardware and cancels it, exits to the hypervisor in
a VM. BenchmarkBlockingWaitEcho's loops, by hand, CPU ns per round trip with the raw wait bounded at 0.2,
1, 4, 10 and 20 ms (no yield before it; 4 alternated rounds each, load about 1): 4290-4680, 3330-3900,
2580-2900, 2690-2830, 2790-2860, against 2910-3710 for the Wait that tells the scheduler at once.

Ways of waiting, measured the same way (one server alive at a time, wrk -t2 -c100 -d5s, rotated rounds;
medians, CPU µs and context switches per request):

| 100 connections | CPU µs/req | ctx switches/req |
|---|--:|--:|
| *4 rounds, load 0.66 at the start:* | | |
| C floor | 3.50 | 0.099 |
| look + Gosched + block (the first step) | 3.97 | 0.107 |
| look + Gosched + raw 1 ms + block | 3.86 | 0.052 |
| Gosched + raw 1 ms + block | 3.80 | 0.048 |
| raw 1 ms, then Gosched + block | 3.71 | 0.054 |
| gnet v2.9.7 | 3.98 | 0.074 |
| *6 rounds, load 0.87 at the start:* | | |
| raw 1 ms, then Gosched + block | 4.03 | 0.050 |
| raw 10 ms, then Gosched + block (now) | 3.85 | 0.080 |
| *4 rounds, load 1.8 at the start:* | | |
| C floor | 3.66 | 0.092 |
| raw 10 ms, then Gosched + block (now) | 3.82 | 0.089 |
| Gosched + raw 10 ms + Gosched + block | 3.80 | 0.079 |
| gnet v2.9.7 | 4.27 | 0.069 |

A cheaper sleep is taken more often: with 10 ms the loops sleep about twice as often as with 1 ms, and
a yield before the raw wait gives an event a moment to arrive first.

BenchmarkBlockingWaitEcho below shows it on the package alone.

**The third step is in evserver's loop, not the package**: after a batch that had events, the loop
yields (` + "`runtime.Gosched`" + `) before its next ` + "`Wait`" + `. The yield gives the next requests a moment to arrive
before the ` + "`Wait`" + ` looks, so the loop's thread sleeps less often, at no extra system call. gnet's loop
also looks with ` + "`Wait(0)`" + ` before its yield. Both against the loop without either (one server alive at a
time, wrk -t2 5 s, alternated rounds, by hand; medians, new/old, exact Mann-Whitney p; the 1-minute
load at the start of the A/B, 2-4 during it from the runs themselves):

| loop, after a batch with events | rounds | load | 100 conns: CPU/req | switches/req | 1,000 conns: CPU/req | switches/req |
|---|--:|--:|--:|--:|--:|--:|
| look, yield if empty (gnet's) | 8 | 2.9 | 0.985× (p=0.49) | 0.919× (p=0.000) | 1.001× (p=0.74) | 0.823× (p=0.000) |
| look, yield if empty (gnet's) | 8 | 2.1 | 1.040× (p=0.13) | 0.893× (p=0.021) | 0.997× (p=0.78) | 0.883× (p=0.000) |
| look, yield if empty (gnet's) | 8 | 0.49 | 0.973× (p=0.52) | 0.965× (p=0.021) | 0.999× (p=0.94) | 0.855× (p=0.000) |
| look, yield if empty (gnet's) | 6 | 0.48 | 1.000× (p=0.91) | 0.941× (p=0.093) | 0.982× (p=0.39) | 0.879× (p=0.002) |
| yield (now) | 8 | 2.1 | 1.087× (p=0.013) | 0.953× (p=0.31) | 1.012× (p=0.43) | 0.904× (p=0.000) |
| yield (now) | 6 | 0.48 | 1.006× (p=1.0) | 0.961× (p=0.70) | 0.992× (p=0.86) | 0.892× (p=0.002) |
| yield (now) | 10 | 0.46 | 1.011× (p=0.80) | 0.916× (p=0.000) | | |

The look without the yield changed nothing (switches 0.0798 against 0.0804 per request, 5 rounds);
looking only after batches of two events or more did not help at 100 connections (1.044×, p=0.24).
What decided it is the system calls: over bench.sh's fixed-work run (100 connections, each sending its
next request once the last is answered, a lighter load than wrk's) the look is mostly empty, and a
bench.sh run with it counted 2.50 system calls per request against gnet's 2.43; by hand, 2.45-2.51
against 2.34-2.37 without the look, 2.26-2.31 with the yield alone, and gnet 2.42-2.57. In wrk's runs
gnet still sleeps less at 100 connections while it spends 1.12-1.15× evserver's CPU per request: a
busier loop more often finds work waiting, and the C floor, the cheapest server, switches most
(0.09-0.10 per request).

**Fewer switches cost CPU.** Every way found of making evserver's loops sleep less spends CPU, and
the C floor, the least CPU a server spends here, sleeps most. One sweep, by hand, each server alone
under wrk -t2 -c100 for 5 s, 8 rotated rounds (load 0.35 at the start, 4.5 at the end from the runs
themselves); medians (min–max), ×floor and ×gnet with the exact Mann-Whitney p:

| 100 connections | CPU µs/req | ×floor | ×gnet | switches/req | ×gnet |
|---|--:|--:|--:|--:|--:|
| evserver, no yield | 4.14 (4.00–4.26) | 1.070× (p=0.001) | 0.920× (p=0.000) | 0.0846 (0.0836–0.0880) | 1.315× (p=0.010) |
| evserver, one yield (now) | 4.14 (4.07–4.26) | 1.068× (p=0.000) | 0.919× (p=0.000) | 0.0801 (0.0771–0.0809) | 1.244× (p=0.014) |
| evserver, two yields | 4.19 (4.08–4.44) | 1.081× (p=0.000) | 0.930× (p=0.000) | 0.0808 (0.0734–0.0837) | 1.256× (p=0.038) |
| evserver, four yields | 4.24 (4.18–4.42) | 1.094× (p=0.000) | 0.941× (p=0.000) | 0.0736 (0.0712–0.0770) | 1.143× (p=0.234) |
| evserver, one yield, raw wait 4 ms | 4.25 (4.09–4.34) | 1.097× (p=0.000) | 0.943× (p=0.000) | 0.0793 (0.0768–0.1005) | 1.232× (p=0.010) |
| evserver, one yield, raw wait 1 ms | 4.37 (4.13–4.50) | 1.128× (p=0.000) | 0.970× (p=0.032) | 0.0473 (0.0446–0.0565) | 0.734× (p=0.000) |
| gnet v2.9.7 | 4.50 (4.43–4.74) | 1.163× (p=0.000) | – | 0.0644 (0.0584–0.0883) | – |
| C floor | 3.88 (3.62–4.07) | – | 0.860× (p=0.000) | 0.0999 (0.0877–0.1051) | 1.553× (p=0.000) |

More yields before the ` + "`Wait`" + ` cut switches a little for more CPU. A raw wait bounded at 1 ms (wait.go's ` + "`rawWaitMax`" + `)
instead of 10 makes each sleep dearer (its timer is programmed into the hardware, see above), so the
loops sleep less often: the only variant below gnet's switches, it spends 1.13× the floor's CPU and
0.97× gnet's, missing both CPU targets. On two cores shared with wrk's two threads a loop that sleeps
hands its core to wrk, which is why the cheapest server switches most: at 100 connections a context
switch is not a cost of its own but the other side of spending less. evserver keeps one yield (the CPU
of none, fewer switches) and the 10 ms raw wait.

**Where the C floor still wins**: sampled side by side (perf record -F 4999 -g, 4 s each under wrk -t2
-c100, load 0.9-1.3, by hand), evserver took 21.4 samples per thousand requests and the floor 20.2,
5.6% more. User space is 0.40 of the difference: the strict HTTP parser, the loop and Go's system call
stub against libc's ` + "`memmem`" + ` and wrappers. The kernel is the other 0.73, spread thin: the largest
single part is ` + "`write`" + `'s file layer (` + "`vfs_write`" + `, ` + "`sock_write_iter`" + `, ` + "`fdget_pos`" + `, about 0.23), which the
floor's ` + "`send`" + ` skips; evserver sending with ` + "`send`" + ` measured no different (8 alternated rounds, +0.6%,
p=0.5), so it writes. The ladder below splits the difference rung by rung; it found one cost this
package could remove, in ` + "`Token`" + `.

**Wait(0)**: what it adds to the bare ` + "`RawSyscall6(epoll_pwait)`" + ` is the lifetime's two atomic adds
(acquire and release, which keep Close from closing the fd under a running Wait), the slice's capacity,
one load of the Wakers, and a function call. BenchmarkLifetime measures, in one process, the bare call,
the same call between acquire and release (the least any Wait can do that Close can never close the fd
under), Wait(0), and the bare call with one atomic write beside it. The Wait is level with the guarded
call, so all of the gap is the guarantee. An atomic write costs more beside a system call than alone,
whether it comes before the call or after it (in a loop, before one call is after the last), and an
atomic store costs what an add does: Go's atomic stores are locked exchanges on amd64. Whatever its
design, a lifetime that Close can wait on needs a write before a Wait uses the fd and one after it has
left it, and a single write already costs more than the 1.05× target allows: the paragraph under the
target rows gives this run's figures.
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
