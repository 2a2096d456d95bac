// The Markdown report: its sections in order, the notes that explain the
// deciding figures, and the Wake storm and server tables.

package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
)

func report(w io.Writer, s, wake samples, servers []serverRow, machine, statFloor, statPkg, command string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Benchmarks\n\n")
	p("Written by `%s`; every figure below comes from that one run on this machine. ", command)
	p("Do not edit by hand: run the script again.\n\n")
	p("Implementations, doing the same work (same interest bits, same token check):\n\n")
	p("- **epoll**: this package.\n")
	p("- **raw**: `syscall.RawSyscall6` of `epoll_pwait`/`epoll_ctl` (and `Syscall6` for the blocking waits) with nothing around it: the floor.\n")
	p("- **syscall**: the standard library's `syscall.EpollWait`/`EpollCtl` (on amd64 `EpollWait` is `epoll_wait`, through `Syscall6`).\n")
	p("- **unix**: `golang.org/x/sys/unix`'s `EpollWait` (`epoll_pwait` through `Syscall6`) and `EpollCtl`.\n\n")
	p("## Machine\n\n```\n%s\n```\n\n", machine)

	p("## Targets\n\n")
	targets(w, s, wake, servers)

	p("\n## Reading the numbers\n\n")
	notes(w, s, servers)

	p("\n## Go benchmarks: medians and ratios\n\n")
	p("Median of all rounds; a ratio is this package's median over the other's, so < 1 means this package is faster. ")
	p("\"spread\" is (max − min) / median over the rounds of this package's samples: the noise to keep in mind. ")
	p("The benchstat tables further down give confidence intervals and p-values.\n\n")
	p("| benchmark | unit | epoll | raw (floor) | syscall | unix | epoll/raw | epoll/syscall | epoll/unix | spread |\n")
	p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var rows []key
	for k := range s {
		if k.unit == "ns/op" || k.unit == "cpu-ns/op" || k.unit == "ns/event" {
			rows = append(rows, k)
		}
	}
	slices.SortFunc(rows, func(a, b key) int { return strings.Compare(a.row+" "+a.unit, b.row+" "+b.unit) })
	for _, k := range rows {
		e := s.med(k.row, k.unit, "epoll")
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k.row, k.unit,
			num(e), num(s.med(k.row, k.unit, "raw")), num(s.med(k.row, k.unit, "syscall")), num(s.med(k.row, k.unit, "unix")),
			ratio(e, s.med(k.row, k.unit, "raw")), ratio(e, s.med(k.row, k.unit, "syscall")), ratio(e, s.med(k.row, k.unit, "unix")),
			pct(spread(s[k]["epoll"])))
	}

	p("\n### Allocations\n\n")
	allocs := 0.0
	var allocRows []string
	for k, byImpl := range s {
		if k.unit != "allocs/op" {
			continue
		}
		for impl, v := range byImpl {
			if m := slices.Max(v); m > 0 {
				allocs = max(allocs, m)
				allocRows = append(allocRows, fmt.Sprintf("%s impl=%s: up to %s allocs/op", k.row, impl, num(m)))
			}
		}
	}
	if allocs == 0 {
		p("Every benchmark of every implementation, in every round: **0 allocs/op** (and 0 B/op).\n")
	} else {
		slices.Sort(allocRows)
		p("Not all zero:\n\n- %s\n", strings.Join(allocRows, "\n- "))
	}

	if len(wake) > 0 {
		p("\n## Wake storm\n\n")
		wakeTable(w, wake)
	}
	if len(servers) > 0 {
		p("\n## Servers: cmd/evserver (this package, a loop per core) vs bench/cmd/gnetserver (gnet v2, multicore) vs bench/cmd/netserver (package net, goroutine per connection)\n\n")
		serverTables(w, servers)
		memcostTable(w, servers)
	}
	floorReport(w, s, servers, echo)

	p("\n## benchstat, the floor as base\n\n```\n%s\n```\n", statFloor)
	p("\n## benchstat, this package as base\n\n```\n%s\n```\n", statPkg)
	p("\n## Reproduce\n\n```sh\n%s\n```\n", command)
}

// notes explains the figures that decide the targets, in numbers from the
// same run, so a missed target comes with its cause.
func notes(w io.Writer, s samples, servers []serverRow) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	const wait0 = "WaitReady/ready=1"
	raw, e, x, sc := s.med(wait0, "cpu-ns/op", "raw"), s.med(wait0, "cpu-ns/op", "epoll"), s.med(wait0, "cpu-ns/op", "unix"), s.med(wait0, "cpu-ns/op", "syscall")
	p("- Wait(0), CPU time: the bare `epoll_pwait` (raw) costs %s ns; this package %s ns (%s), ", num(raw), signedNum(e-raw), signed(e/raw-1))
	p("for two atomic adds (the counter that keeps Close from closing the fd under a Wait) and a few checks; ")
	p("`unix.EpollWait` %s ns (%s) and `syscall.EpollWait` %s ns (%s). ", signedNum(x-raw), signed(x/raw-1), signedNum(sc-raw), signed(sc/raw-1))
	p("Those two go through `Syscall6`, which tells the scheduler the goroutine may block (entersyscall/exitsyscall), ")
	p("where this package uses `RawSyscall6` because a zero timeout cannot block. ")
	p("What that saves is a fixed number of nanoseconds, so its share, and with it the 10%% target, depends on what the kernel's part costs on the machine: ")
	p("on this one a bare call costs %s ns. Wall times carry the load of other processes on top (compare the spread of ns/op with that of cpu-ns/op).\n", num(raw))
	i10, i100k := s.med("WaitIdle/idle=10", "cpu-ns/op", "epoll"), s.med("WaitIdle/idle=100000", "cpu-ns/op", "epoll")
	r10, r100k := s.med("WaitIdle/idle=10", "cpu-ns/op", "raw"), s.med("WaitIdle/idle=100000", "cpu-ns/op", "raw")
	p("- Idle fds (CPU time): with 100k idle registrations a Wait costs %s this package's Wait with 10 (%s vs %s ns), ", ratio(i100k, i10), num(i100k), num(i10))
	p("and the floor's %s (%s vs %s ns). The kernel keeps a ready list, so `epoll_pwait` never walks the idle ones; ", ratio(r100k, r10), num(r100k), num(r10))
	p("a difference that shows in both is the kernel's or the cache's (a larger interest tree, other data evicted), not the wrapper's.\n")
	e, raw = s.med("WaitReady/ready=1024", "ns/event", "epoll"), s.med("WaitReady/ready=1024", "ns/event", "raw")
	p("- 1024 ready fds: %s ns per event for this package, %s for the floor (%s%s). ", num(e), num(raw), ratio(e, raw), pNote("WaitReady/ready=1024", "ns/event", "raw"))
	p("Every implementation hands the kernel the caller's buffer, so per event only the kernel's work and reading the token remain.\n")
	e, raw = s.med("WakeWaitRoundTrip", "ns/op", "epoll"), s.med("WakeWaitRoundTrip", "ns/op", "raw")
	p("- Wake → Wait round trip: %s vs %s ns for the floor (%s%s). Each trip is four system calls, two eventfd writes and two waits that put a thread to sleep, ", num(e), num(raw), ratio(e, raw), pNote("WakeWaitRoundTrip", "ns/op", "raw"))
	p("and most of its time is waking a sleeping thread and goroutine, so this figure depends on the scheduler and on other load far more than on the library: read its spread before its ratio.\n")
	if len(servers) > 0 {
		p("- Servers: evserver and gnet run one event loop per CPU (%d here), netserver a goroutine per connection on as many Ps; ", runtime.NumCPU())
		p("wrk (2 threads) runs on the same cores, so every server competes with the load generator, and with whatever else the machine was doing (see the load column and the load average). ")
		p("An idle connection costs netserver a goroutine (its stack) and its read buffer, gnet its connection object and buffers, evserver only a 96-byte struct (with its links in its loop's deadline list) and a slot in its loop's table.\n")
		es, gs := syscallsPerRequest(servers, "evserver", "all"), syscallsPerRequest(servers, "gnetserver", "all")
		p("- System calls per request: evserver %s (read %s, write %s, epoll waits %s), gnet %s (read %s, write %s, epoll waits %s). ",
			num3(es), num3(syscallsPerRequest(servers, "evserver", "read")), num3(syscallsPerRequest(servers, "evserver", "write")), num3(waitsPer(servers, "evserver")),
			num3(gs), num3(syscallsPerRequest(servers, "gnetserver", "read")), num3(syscallsPerRequest(servers, "gnetserver", "write")), num3(waitsPer(servers, "gnetserver")))
		p("With one request in flight per connection, a request is at best one read and one write; the epoll waits per request fall as more connections are ready at each wait.\n")
		for _, conns := range []float64{100, 1000} {
			gu, gk := medianOf(servers, "gnetserver", conns, userPerRequest), medianOf(servers, "gnetserver", conns, kernelPerRequest)
			eu, ek := medianOf(servers, "evserver", conns, userPerRequest), medianOf(servers, "evserver", conns, kernelPerRequest)
			if math.IsNaN(gu) || math.IsNaN(eu) {
				continue
			}
			p("- CPU per request at %s connections: gnet %s µs in user space and %s in the kernel, evserver %s and %s. ", num(conns), num(gu), num(gk), num(eu), num(ek))
			p("The kernel's part is %s of gnet's CPU: both make one read and one write per request, so user space, where evserver spends %s gnet's time, is all a server can cut", pct(gk/(gu+gk)), ratio(eu, gu))
			if save := eu + ek - 0.9*(gu+gk); save > 0 {
				p("; reaching 0.90× gnet's total (%s µs) would take %s µs off, %s of gnet's whole user time", num(0.9*(gu+gk)), num(save), pct(save/gu))
			}
			p(". What differs in the kernel (evserver %s µs, gnet %s) is not the calls but what they do, such as how often a write wakes a sleeping wrk thread.\n", num(ek), num(gk))
		}
	}
}

func wakeTable(w io.Writer, wake samples) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("The root package's BenchmarkWakeStorm: 8 goroutines each queue a task and Wake, against a loop that waits and drains the queue; one op is one Wake. ")
	p("impl=waker is the Waker, impl=write an eventfd write per Wake, as the Waker was before it coalesced. ")
	p("writes/wake counts the eventfd's writes (its counter, which nothing reads). Medians over the rounds, spread = (max − min) / median.\n\n")
	p("| impl | ns per Wake | spread | eventfd writes per Wake | spread |\n|---|--:|--:|--:|--:|\n")
	for _, impl := range []string{"waker", "write"} {
		p("| %s | %s | %s | %s | %s |\n", impl, num(wake.med("WakeStorm", "ns/op", impl)), pct(spread(wake[key{"WakeStorm", "ns/op"}][impl])),
			num3(wake.med("WakeStorm", "writes/wake", impl)), pct(spread(wake[key{"WakeStorm", "writes/wake"}][impl])))
	}
	p("\nUnder the storm a Wake costs %s the time of one that always writes.\n",
		ratio(wake.med("WakeStorm", "ns/op", "waker"), wake.med("WakeStorm", "ns/op", "write")))
}

func serverTables(w io.Writer, servers []serverRow) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("wrk, keep-alive GET, one row per round (the servers' order rotated each round, each run on a fresh server process), then the median. ")
	p("CPU µs/req is the server process's CPU time (user + system) over the requests wrk completed: ")
	p("it leaves out time other processes held the CPU, so it is the steadier figure here. load is the 1-minute load average after the round. ")
	p("p is the exact Mann-Whitney U test of evserver's rounds against the other's.\n\n")
	p("| connections | round | evserver req/s | gnet req/s | net req/s | evserver CPU µs/req | gnet CPU µs/req | net CPU µs/req | load |\n")
	p("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, conns := range wrkConns(servers) {
		byRound := map[float64]map[string]serverRow{}
		var order []float64
		for _, r := range servers {
			if r.kind != "wrk" || r.vals["conns"] != conns {
				continue
			}
			round := r.vals["round"]
			if byRound[round] == nil {
				byRound[round] = map[string]serverRow{}
				order = append(order, round)
			}
			byRound[round][r.server] = r
		}
		for _, round := range order {
			m := byRound[round]
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", num(conns), num(round),
				num(m["evserver"].vals["rps"]), num(m["gnetserver"].vals["rps"]), num(m["netserver"].vals["rps"]),
				num(cpuPerRequest(m["evserver"])), num(cpuPerRequest(m["gnetserver"])), num(cpuPerRequest(m["netserver"])),
				num(m["evserver"].vals["load1"]))
		}
		p("| %s | **median** | %s | %s | %s | %s | %s | %s | |\n", num(conns),
			num(medianRPS(servers, "evserver", conns)), num(medianRPS(servers, "gnetserver", conns)), num(medianRPS(servers, "netserver", conns)),
			num(medianOf(servers, "evserver", conns, cpuPerRequest)), num(medianOf(servers, "gnetserver", conns, cpuPerRequest)), num(medianOf(servers, "netserver", conns, cpuPerRequest)))
	}
	p("\nRatios of the medians (evserver over the other; spread = (max − min) / median of evserver's rounds):\n\n")
	p("| connections | req/s vs gnet | req/s vs net | CPU/req vs gnet | CPU/req vs net | evserver req/s spread | evserver CPU/req spread |\n|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, conns := range wrkConns(servers) {
		rg, pg := serverRatio(servers, "evserver", "gnetserver", conns, rps)
		rn, pn := serverRatio(servers, "evserver", "netserver", conns, rps)
		cg, cpg := serverRatio(servers, "evserver", "gnetserver", conns, cpuPerRequest)
		cn, cpn := serverRatio(servers, "evserver", "netserver", conns, cpuPerRequest)
		p("| %s | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s | %s |\n", num(conns), ratioF(rg), pg, ratioF(rn), pn, ratioF(cg), cpg, ratioF(cn), cpn,
			pct(spread(valuesOf(servers, "evserver", conns, rps))), pct(spread(valuesOf(servers, "evserver", conns, cpuPerRequest))))
	}
	if conns := wrkConns(servers); len(conns) > 0 && !math.IsNaN(medianOf(servers, "evserver", conns[0], userPerRequest)) {
		p("\nThe same CPU time per request, split into user space and the kernel (medians, µs):\n\n")
		p("| connections | evserver user | evserver kernel | gnet user | gnet kernel | net user | net kernel |\n|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, conns := range wrkConns(servers) {
			p("| %s |", num(conns))
			for _, sv := range serverNames {
				p(" %s | %s |", num(medianOf(servers, sv, conns, userPerRequest)), num(medianOf(servers, sv, conns, kernelPerRequest)))
			}
			p("\n")
		}
	}
	var errs []string
	for _, r := range servers {
		if r.kind == "wrk" && (r.vals["errors"] > 0 || r.vals["non2xx"] > 0) {
			errs = append(errs, fmt.Sprintf("%s, %s connections, round %s: %s socket errors, %s non-2xx",
				r.server, num(r.vals["conns"]), num(r.vals["round"]), num(r.vals["errors"]), num(r.vals["non2xx"])))
		}
	}
	if len(errs) > 0 {
		p("\nwrk reported errors:\n\n- %s\n", strings.Join(errs, "\n- "))
	} else {
		p("\nwrk reported no socket errors and no non-2xx responses.\n")
	}

	p("\nSystem calls of the whole server process (every thread, `perf stat -e raw_syscalls:sys_enter,syscalls:sys_enter_*`, from start to exit) ")
	p("over a fixed number of requests: 100 connections, each sending its next request once the last is answered. Per request:\n\n")
	p("| server | requests | all | read | write | writev | epoll waits | epoll_ctl | futex | nanosleep | sched_yield |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, sv := range serverNames {
		var req float64
		for _, r := range servers {
			if r.kind == "syscalls" && r.server == sv {
				req = r.vals["requests"]
			}
		}
		if req == 0 {
			continue
		}
		per := func(name string) float64 { return syscallsPerRequest(servers, sv, name) }
		waits := per("epoll_wait") + per("epoll_pwait") + per("epoll_pwait2")
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", sv, num(req), num3(per("all")), num3(per("read")), num3(per("write")), num3(per("writev")),
			num3(waits), num3(per("epoll_ctl")), num3(per("futex")), num3(per("nanosleep")), num3(per("sched_yield")))
	}

	p("\nResident memory (VmRSS) of a fresh server process, before and while it holds idle keep-alive connections (one request answered on each):\n\n")
	p("| server | connections | RSS before (KiB) | RSS with them (KiB) | KiB per idle connection |\n|---|--:|--:|--:|--:|\n")
	for _, r := range servers {
		if r.kind == "rss" {
			p("| %s | %s | %s | %s | %s |\n", r.server, num(r.vals["conns"]), num(r.vals["base_kb"]), num(r.vals["loaded_kb"]), num(perConn(servers, r.server)))
		}
	}
	ev, gn, net := perConn(servers, "evserver"), perConn(servers, "gnetserver"), perConn(servers, "netserver")
	p("\nPer idle connection evserver/gnet: **%s**; evserver/net: **%s**.\n", ratio(ev, gn), ratio(ev, net))
}
