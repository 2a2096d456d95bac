package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// floorServer is the C epoll server (bench/cfloor) every server is
// measured against: the least the kernel allows for the same bytes.
const floorServer = "cfloor"

// floorServers are the servers of the floor tables, the floor last.
var floorServers = []string{"evserver", "gnetserver", "netserver", floorServer}

func ctxswPerRequest(r serverRow) float64 { return perRequest(r, "ctxsw") }
func p50(r serverRow) float64             { return value(r, "p50_us") }
func p99(r serverRow) float64             { return value(r, "p99_us") }

func perRequest(r serverRow, name string) float64 {
	v, ok := r.vals[name]
	if !ok || r.vals["requests"] == 0 {
		return math.NaN()
	}
	return v / r.vals["requests"]
}

func value(r serverRow, name string) float64 {
	if v, ok := r.vals[name]; ok {
		return v
	}
	return math.NaN()
}

// measure is one column of the floor tables.
type measure struct {
	name string
	f    func(serverRow) float64
}

var floorMeasures = []measure{
	{"CPU µs/req", cpuPerRequest},
	{"context switches/req", ctxswPerRequest},
	{"p50 µs", p50},
	{"p99 µs", p99},
	{"req/s", rps},
}

// floorReport writes the servers against the C floor, issue 18's targets,
// why evserver slept more, the echo benchmark and the flame graphs.
func floorReport(w io.Writer, s samples, servers []serverRow, echo samples) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	if len(valuesOf(servers, floorServer, 100, cpuPerRequest)) > 0 {
		p("\n## Against the floor: a C epoll server\n\n")
		p("bench/cfloor/cfloor.c answers the same bytes (scripts/bench.sh checks) with the least the kernel allows: ")
		p("a thread per core, each with its own SO_REUSEPORT listener and epoll instance, edge-triggered connections, ")
		p("one read per event, one `send(MSG_NOSIGNAL)` per batch of responses, `close` without `EPOLL_CTL_DEL`. ")
		p("Each cell is the median over the rounds (min–max in brackets); ×floor is that median over cfloor's, ")
		p("and p the exact Mann-Whitney U test of the server's rounds against cfloor's. ")
		p("Context switches are the server's threads' voluntary + non-voluntary switches (/proc/PID/task/*/status) over its life, per request wrk completed; ")
		p("p50 and p99 are wrk's latency percentiles.\n")
		for _, conns := range wrkConns(servers) {
			p("\n%s connections:\n\n| server |", num(conns))
			for _, m := range floorMeasures {
				p(" %s | ×floor |", m.name)
			}
			p("\n|---|%s\n", strings.Repeat("--:|", 2*len(floorMeasures)))
			for _, sv := range floorServers {
				p("| %s |", sv)
				for _, m := range floorMeasures {
					v := valuesOf(servers, sv, conns, m.f)
					r, pv := serverRatio(servers, sv, floorServer, conns, m.f)
					cell := "–"
					if sv != floorServer {
						cell = ratioF(r) + " (" + pv + ")"
					}
					p(" %s | %s |", minMax(v), cell)
				}
				p("\n")
			}
		}
		p("\nSystem calls per request (the fixed-work perf stat run above) against the floor's %s:", num3(syscallsPerRequest(servers, floorServer, "all")))
		for _, sv := range floorServers[:3] {
			p(" %s %s (%s);", sv, num3(syscallsPerRequest(servers, sv, "all")), ratio(syscallsPerRequest(servers, sv, "all"), syscallsPerRequest(servers, floorServer, "all")))
		}
		p(" epoll waits per request: evserver %s, gnet %s, cfloor %s.\n", num3(waitsPer(servers, "evserver")), num3(waitsPer(servers, "gnetserver")), num3(waitsPer(servers, floorServer)))
		floorTargets(w, s, servers)
	}
	p("\n%s", whyEvserverSlept)
	ladderReport(w, servers)
	if len(echo) > 0 {
		echoTable(w, echo)
	}
	p("\n%s", flameGraphs)
}

// minMax is "median (min–max)" of v.
func minMax(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	return num(median(v)) + " (" + num(slices.Min(v)) + "–" + num(slices.Max(v)) + ")"
}

// floorTargets judges issue 18's targets.
func floorTargets(w io.Writer, s samples, servers []serverRow) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	verdict := func(ok bool) string {
		if ok {
			return "**met**"
		}
		return "**missed**"
	}
	p("\n### Issue 18's targets (2 loops, unpinned, medians of the rotated rounds)\n\n| target | measured | verdict |\n|---|---|---|\n")
	for _, conns := range []float64{100, 1000} {
		if len(valuesOf(servers, "evserver", conns, cpuPerRequest)) == 0 {
			continue
		}
		c := num(conns)
		ev, fl, gn := medianOf(servers, "evserver", conns, cpuPerRequest), medianOf(servers, floorServer, conns, cpuPerRequest), medianOf(servers, "gnetserver", conns, cpuPerRequest)
		r, pv := serverRatio(servers, "evserver", floorServer, conns, cpuPerRequest)
		p("| evserver CPU per request ≤ 1.05× the C floor's, %s connections | %s vs %s µs: %s (%s) | %s |\n", c, num(ev), num(fl), ratioF(r), pv, verdict(r <= 1.05))
		r, pv = serverRatio(servers, "evserver", "gnetserver", conns, cpuPerRequest)
		p("| evserver CPU per request ≤ 0.95× gnet's, %s connections | %s vs %s µs: %s (%s) | %s |\n", c, num(ev), num(gn), ratioF(r), pv, verdict(r <= 0.95))
		r, pv = serverRatio(servers, "evserver", "gnetserver", conns, ctxswPerRequest)
		p("| evserver context switches per request ≤ gnet's, %s connections | %s vs %s: %s (%s) | %s |\n", c,
			num3(medianOf(servers, "evserver", conns, ctxswPerRequest)), num3(medianOf(servers, "gnetserver", conns, ctxswPerRequest)), ratioF(r), pv, verdict(r <= 1))
		r, pv = serverRatio(servers, "evserver", "gnetserver", conns, rps)
		p("| evserver req/s ≥ gnet's, %s connections | %s vs %s: %s (%s) | %s |\n", c,
			num(medianRPS(servers, "evserver", conns)), num(medianRPS(servers, "gnetserver", conns)), ratioF(r), pv, verdict(r >= 1))
		r, pv = serverRatio(servers, "evserver", "gnetserver", conns, p99)
		p("| evserver p99 latency ≤ gnet's, %s connections | %s vs %s µs: %s (%s) | %s |\n", c,
			num(medianOf(servers, "evserver", conns, p99)), num(medianOf(servers, "gnetserver", conns, p99)), ratioF(r), pv, verdict(r <= 1))
	}
	es, gs := syscallsPerRequest(servers, "evserver", "all"), syscallsPerRequest(servers, "gnetserver", "all")
	p("| evserver system calls per request ≤ gnet's (kept) | %s vs %s: %s | %s |\n", num3(es), num3(gs), ratio(es, gs), verdict(es <= gs))
	const wait0 = "WaitReady/ready=1"
	if v := s[key{wait0, "cpu-ns/op"}]["epoll"]; len(v) > 0 {
		lo, med, hi := roundRatios(s, wait0, "cpu-ns/op", "epoll", "raw")
		allocs := slices.Max(append([]float64{0}, s[key{wait0, "allocs/op"}]["epoll"]...))
		p("| Wait(0) ≤ 1.05× the raw floor (CPU time, median of %d alternated rounds), 0 allocs | median %s (%s–%s), %s allocs/op | %s |\n",
			len(v), ratioF(med), ratioF(lo), ratioF(hi), num(allocs), verdict(med <= 1.05 && allocs == 0))
		if guarded := echo.med("Lifetime", "ns/op", "guarded"); !math.IsNaN(guarded) {
			gap := s.med(wait0, "cpu-ns/op", "epoll") - s.med(wait0, "cpu-ns/op", "raw")
			lt := func(impl string) float64 { return echo.med("Lifetime", "ns/op", impl) }
			raw, wait := lt("raw"), lt("wait")
			oneWrite := math.Min(lt("add-after"), lt("store-after"))
			p("\nWait(0) costs %s ns of CPU more than the bare call. Where its floor lies (BenchmarkLifetime, all in one process, medians of %d rounds): "+
				"one atomic add next to the bare call costs %s ns before it and %s ns after it, and an atomic store after it %s ns, "+
				"since Go's atomic stores are locked exchanges on amd64 (in a loop, before one call is after the last, and the two alone, away from a system call, cost %s ns). "+
				"Close's guarantee takes two such writes, one before a Wait uses the fd and one after it has left it: "+
				"the bare call between the lifetime's acquire and release, the least a Wait can do that Close can never close the fd under, is %s the bare call (%s vs %s ns), "+
				"and Wait(0) is %s that guarded call (%s ns). The write after the call alone, which any release is, is already %s the bare call.\n",
				num(gap), len(echo[key{"Lifetime", "ns/op"}]["guarded"]),
				signedNum(lt("add-before")-raw), signedNum(lt("add-after")-raw), signedNum(lt("store-after")-raw), num(lt("acquire+release")),
				ratio(guarded, raw), num(guarded), num(raw),
				ratio(wait, guarded), num(wait), ratio(oneWrite, raw))
		}
	}
}

// echoTable reports BenchmarkBlockingWaitEcho: a blocking Wait whose first
// millisecond is a raw wait against the Wait that tells the scheduler at
// once.
func echoTable(w io.Writer, echo samples) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	const row = "BlockingWaitEcho"
	p("\n### The package alone: BenchmarkBlockingWaitEcho, this run\n\n")
	p("Two loops (GOMAXPROCS=2, a Poll each, `Wait(Forever)`) echo one byte at a time on 16 socket pairs to another process, ")
	p("one thread on one epoll instance that sends the next byte on a pair as soon as the last came back, as wrk does. ")
	p("impl=raw is Wait as it is (its first millisecond a raw wait), impl=block the Wait that goes into the scheduler-visible call at once; the two alternate in one process per round. ")
	p("Per round trip, medians (min–max) over the rounds, CPU time and context switches of the loops' process (getrusage):\n\n")
	p("| impl | ns/op | CPU ns/op | context switches/op |\n|---|--:|--:|--:|\n")
	for _, impl := range []string{"raw", "block"} {
		p("| %s | %s | %s | %s |\n", impl, minMax(echo[key{row, "ns/op"}][impl]), minMax(echo[key{row, "cpu-ns/op"}][impl]), minMax(echo[key{row, "ctxsw/op"}][impl]))
	}
	for _, unit := range []string{"ns/op", "cpu-ns/op", "ctxsw/op"} {
		a, b := echo[key{row, unit}]["raw"], echo[key{row, unit}]["block"]
		p("%s raw/block: %s (p=%.3f n=%d+%d). ", unit, ratio(median(a), median(b)), mannWhitney(a, b), len(a), len(b))
	}
	p("\n")
}

// echo holds BenchmarkBlockingWaitEcho's rounds (-echo), if given.
var echo samples
