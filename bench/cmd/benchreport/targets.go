// The targets of the issue, each judged on this run's medians: met or
// missed, and by how much.

package main

import (
	"fmt"
	"io"
	"math"
	"slices"
)

func targets(w io.Writer, s, wake samples, servers []serverRow) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("Judged on wall time (ns/op, what a caller waits) and, separately, on the process's CPU time (cpu-ns/op), ")
	p("which leaves out the time other processes held the CPU and so is the steadier figure on a shared machine. ")
	p("Verdicts compare medians; the p-value is benchstat's (Mann-Whitney U test over the rounds): ")
	p("above 0.05, the two implementations cannot be told apart in this run, whatever the verdict says.\n\n")
	p("| target | wall ns/op: this package vs other | verdict | CPU ns/op: this package vs other | verdict |\n|---|---|---|---|---|\n")
	const wait0 = "WaitReady/ready=1"
	compare(w, s, "Wait(0), 1 ready fd: within 3% of the RawSyscall6 floor", wait0, "epoll", wait0, "raw", 1.03)
	compare(w, s, "Wait(0): at least 10% faster than unix.EpollWait", wait0, "epoll", wait0, "unix", 0.90)
	compare(w, s, "Wait(0): at least 10% faster than syscall.EpollWait", wait0, "epoll", wait0, "syscall", 0.90)
	compare(w, s, "Wait(0) with 100k idle fds within 10% of 10 idle fds", "WaitIdle/idle=100000", "epoll", "WaitIdle/idle=10", "epoll", 1.10)
	compare(w, s, "(the floor itself: raw, 100k idle vs 10 idle)", "WaitIdle/idle=100000", "raw", "WaitIdle/idle=10", "raw", 1.10)

	maxAllocs := 0.0
	for k, byImpl := range s {
		if k.unit == "allocs/op" {
			if v := byImpl["epoll"]; len(v) > 0 {
				maxAllocs = max(maxAllocs, slices.Max(v))
			}
		}
	}
	verdict := func(ok bool) string {
		if ok {
			return "**met**"
		}
		return "**missed**"
	}
	p("\n| target | measured | verdict |\n|---|---|---|\n")
	p("| 0 allocs/op in every benchmark of this package | at most %s allocs/op | %s |\n", num(maxAllocs), verdict(maxAllocs == 0))
	lo, med, hi := roundRatios(s, "WaitReady/ready=1", "cpu-ns/op", "epoll", "raw")
	p("| Wait(0) / raw `epoll_pwait`, CPU time, per round (each round its own process) | median %s, from %s to %s over %d rounds | %s |\n",
		ratioF(med), ratioF(lo), ratioF(hi), len(s[key{"WaitReady/ready=1", "cpu-ns/op"}]["epoll"]), verdict(med <= 1.03))
	if len(wake) > 0 {
		wpw := wake.med("WakeStorm", "writes/wake", "waker")
		lost := 0.0
		for _, v := range wake[key{"WakeStorm", "lost-wakes"}]["waker"] {
			lost += v
		}
		p("| Wake storm (8 goroutines): at least 10× fewer eventfd writes than Wakes | %s writes per Wake (%s fewer) | %s |\n", num3(wpw), ratioF(1/wpw), verdict(wpw <= 0.1))
		p("| Wake storm: 0 lost wakes | %s lost over %d rounds (and TestWakeStormLosesNoTask) | %s |\n", num(lost), len(wake[key{"WakeStorm", "writes/wake"}]["waker"]), verdict(lost == 0))
	}
	if len(servers) == 0 {
		p("| event-loop server targets | not measured | **missed** |\n")
		return
	}
	for _, conns := range []float64{100, 1000} {
		cpu, cpuP := serverRatio(servers, "evserver", "gnetserver", conns, cpuPerRequest)
		rpsG, rpsGP := serverRatio(servers, "evserver", "gnetserver", conns, rps)
		rpsN, rpsNP := serverRatio(servers, "evserver", "netserver", conns, rps)
		p("| evserver CPU per request ≤ 0.90× gnet's, %s connections | %s vs %s µs: %s (%s) | %s |\n", num(conns),
			num(medianOf(servers, "evserver", conns, cpuPerRequest)), num(medianOf(servers, "gnetserver", conns, cpuPerRequest)), ratioF(cpu), cpuP, verdict(cpu <= 0.90))
		p("| evserver req/s ≥ 1.10× gnet's, %s connections | %s vs %s: %s (%s) | %s |\n", num(conns),
			num(medianRPS(servers, "evserver", conns)), num(medianRPS(servers, "gnetserver", conns)), ratioF(rpsG), rpsGP, verdict(rpsG >= 1.10))
		p("| evserver req/s ≥ 1.40× net's, %s connections | %s vs %s: %s (%s) | %s |\n", num(conns),
			num(medianRPS(servers, "evserver", conns)), num(medianRPS(servers, "netserver", conns)), ratioF(rpsN), rpsNP, verdict(rpsN >= 1.40))
	}
	if big := slices.Max(wrkConns(servers)); big > 1000 {
		r, pv := serverRatio(servers, "evserver", "gnetserver", big, rps)
		p("| evserver req/s ≥ gnet's, %s connections | %s vs %s: %s (%s) | %s |\n", num(big),
			num(medianRPS(servers, "evserver", big)), num(medianRPS(servers, "gnetserver", big)), ratioF(r), pv, verdict(r >= 1))
	}
	ev, gn, net := perConn(servers, "evserver"), perConn(servers, "gnetserver"), perConn(servers, "netserver")
	p("| evserver idle memory per connection ≤ gnet's | %s vs %s KiB: %s | %s |\n", num(ev), num(gn), ratio(ev, gn), verdict(ev <= gn))
	p("| evserver idle memory per connection under 1/10 of net's | %s vs %s KiB: %s | %s |\n", num(ev), num(net), ratio(ev, net), verdict(ev < net/10))
	es, gs := syscallsPerRequest(servers, "evserver", "all"), syscallsPerRequest(servers, "gnetserver", "all")
	p("| evserver system calls per request ≤ gnet's | %s vs %s: %s | %s |\n", num3(es), num3(gs), ratio(es, gs), verdict(es <= gs))
}

// compare is one target comparing this package's median (a) with another
// (b) in both wall and CPU time: met when a/b <= limit.
func compare(w io.Writer, s samples, what, rowA, implA, rowB, implB string, limit float64) {
	cell := func(unit string) string {
		a, b := s.med(rowA, unit, implA), s.med(rowB, unit, implB)
		r := a / b
		v := "missed"
		if r <= limit {
			v = "met"
		}
		if math.IsNaN(r) {
			v = "not measured"
		}
		p := ""
		if implA == "epoll" && rowA == rowB {
			if pv := pvalues[key{rowA, unit}][implB]; pv != "" {
				p = ", " + pv
			}
		}
		return fmt.Sprintf("%s vs %s: %s (%s%s) | **%s**", num(a), num(b), ratio(a, b), signed(r-1), p, v)
	}
	fmt.Fprintf(w, "| %s | %s | %s |\n", what, cell("ns/op"), cell("cpu-ns/op"))
}
