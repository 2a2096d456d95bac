// Command benchreport writes BENCHMARKS.md from what scripts/bench.sh
// measured: the raw `go test -bench` output of all rounds, benchstat's
// tables of it, the server figures and a description of the machine. It
// computes every ratio from medians of the same run, checks them against the
// targets of the issue, and says which ones were missed and by how much.
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

func main() {
	goFile := flag.String("go", "", "raw `go test -bench` output of every round")
	statFloor := flag.String("benchstat-floor", "", "benchstat output with the raw floor as base column")
	statPkg := flag.String("benchstat-epoll", "", "benchstat output with this package as base column")
	statCSV := flag.String("benchstat-epoll-csv", "", "the same as -benchstat-epoll, in benchstat's CSV format, for the p-values")
	serverFile := flag.String("server", "", "server figures written by scripts/bench.sh")
	machineFile := flag.String("machine", "", "machine description written by scripts/bench.sh")
	command := flag.String("command", "scripts/bench.sh", "the command that reproduces the run")
	out := flag.String("o", "BENCHMARKS.md", "the file to write")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchreport: ")

	samples, err := parseGo(*goFile)
	if err != nil {
		log.Fatal(err)
	}
	if *statCSV != "" {
		if pvalues, err = parseBenchstatCSV(*statCSV); err != nil {
			log.Fatal(err)
		}
	}
	var servers []serverRow
	if *serverFile != "" {
		if servers, err = parseServer(*serverFile); err != nil {
			log.Fatal(err)
		}
	}
	var w strings.Builder
	report(&w, samples, servers, readOr(*machineFile), readOr(*statFloor), readOr(*statPkg), *command)
	if err := os.WriteFile(*out, []byte(w.String()), 0o644); err != nil { //nolint:gosec // G306: a report for the repository, readable by all
		log.Fatal(err)
	}
}

func readOr(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path) //nolint:gosec // G304: a file named on the command line
	if err != nil {
		log.Fatal(err)
	}
	return strings.TrimRight(string(b), "\n")
}

// key names one benchmark row and unit, such as ("WaitReady/ready=1", "ns/op").
type key struct{ row, unit string }

// samples holds every measured value by row and unit, then by implementation.
type samples map[key]map[string][]float64

// parseGo reads lines such as
// "BenchmarkWaitReady/ready=64/impl=raw-2  1000  9992 ns/op  156.1 ns/event  0 B/op  0 allocs/op".
func parseGo(path string) (samples, error) {
	f, err := os.Open(path) //nolint:gosec // G304: a file named on the command line
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := samples{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		row, impl, ok := strings.Cut(name, "/impl=")
		if !ok {
			continue
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %v", path, sc.Text(), err)
			}
			k := key{row, fields[i+1]}
			if s[k] == nil {
				s[k] = map[string][]float64{}
			}
			s[k][impl] = append(s[k][impl], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", path)
	}
	return s, nil
}

// pvalues holds benchstat's verdict on this package against another
// implementation, by unit, row and implementation: such as "p=0.002 n=6".
var pvalues = map[key]map[string]string{}

// parseBenchstatCSV reads `benchstat -format csv` output whose base column
// is this package. Each table starts with a line naming the columns'
// implementations and one naming the unit; the base has value and CI
// columns, every other implementation value, CI, vs base and P.
func parseBenchstatCSV(path string) (map[key]map[string]string, error) {
	f, err := os.Open(path) //nolint:gosec // G304: a file named on the command line
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	units := map[string]string{"sec/op": "ns/op", "cpu-sec/op": "cpu-ns/op", "sec/event": "ns/event"}
	out := map[key]map[string]string{}
	var cols map[int]string // column index to implementation
	unit := ""
	for _, rec := range recs {
		switch {
		case len(rec) < 3:
		case rec[0] == "" && rec[1] != "" && rec[2] == "": // ,epoll,,raw,,,,...
			cols = map[int]string{}
			for i, v := range rec {
				if v != "" {
					cols[i] = v
				}
			}
		case rec[0] == "" && rec[2] == "CI":
			unit = units[rec[1]]
		case rec[0] != "geomean" && unit != "":
			row := rec[0]
			if i := strings.LastIndexByte(row, '-'); i > 0 {
				row = row[:i] // the GOMAXPROCS suffix
			}
			for i, impl := range cols {
				if i+3 < len(rec) && rec[i+3] != "" {
					k := key{row, unit}
					if out[k] == nil {
						out[k] = map[string]string{}
					}
					out[k][impl] = rec[i+3]
				}
			}
		}
	}
	return out, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Sorted(slices.Values(v))
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// spread is the range of the samples relative to their median, the noise
// a reader should keep in mind before trusting a small ratio.
func spread(v []float64) float64 {
	if len(v) < 2 {
		return math.NaN()
	}
	return (slices.Max(v) - slices.Min(v)) / median(v)
}

func (s samples) med(row, unit, impl string) float64 { return median(s[key{row, unit}][impl]) }

// serverRow is one line of the server figures: a kind ("wrk" or "rss"), the
// server ("evserver" or "netserver") and named values.
type serverRow struct {
	kind, server string
	vals         map[string]float64
}

// parseServer reads lines such as
// "wrk server=evserver conns=100 round=1 rps=51234.5 errors=0" and
// "rss server=netserver conns=10000 base_kb=5000 loaded_kb=90000".
func parseServer(path string) ([]serverRow, error) {
	b, err := os.ReadFile(path) //nolint:gosec // G304: a file named on the command line
	if err != nil {
		return nil, err
	}
	var rows []serverRow
	for line := range strings.Lines(string(b)) {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		r := serverRow{kind: fields[0], vals: map[string]float64{}}
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			if k == "server" {
				r.server = v
				continue
			}
			if r.vals[k], err = strconv.ParseFloat(v, 64); err != nil {
				return nil, fmt.Errorf("%s: %q: %v", path, line, err)
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func report(w io.Writer, s samples, servers []serverRow, machine, statFloor, statPkg, command string) {
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
	targets(w, s, servers)

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

	if len(servers) > 0 {
		p("\n## Servers: cmd/evserver (this package, one goroutine) vs bench/cmd/netserver (package net, goroutine per connection)\n\n")
		serverTables(w, servers)
	}

	p("\n## benchstat, the floor as base\n\n```\n%s\n```\n", statFloor)
	p("\n## benchstat, this package as base\n\n```\n%s\n```\n", statPkg)
	p("\n## Reproduce\n\n```sh\n%s\n```\n", command)
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

func targets(w io.Writer, s samples, servers []serverRow) {
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
	if len(servers) == 0 {
		p("| event-loop server targets | not measured | **missed** |\n")
		return
	}
	for _, conns := range wrkConns(servers) {
		ev, net := medianRPS(servers, "evserver", conns), medianRPS(servers, "netserver", conns)
		evCPU, netCPU := medianCPU(servers, "evserver", conns), medianCPU(servers, "netserver", conns)
		p("| event-loop server at least as fast as net, %s connections | %s vs %s req/s: %s (server CPU per request: %s vs %s µs, %s) | %s |\n",
			num(conns), num(ev), num(net), ratio(ev, net), num(evCPU), num(netCPU), ratio(evCPU, netCPU), verdict(ev >= net))
	}
	ev, net := perConn(servers, "evserver"), perConn(servers, "netserver")
	p("| event-loop server under 1/10 of net's memory per idle connection | %s vs %s KiB: %s | %s |\n",
		num(ev), num(net), ratio(ev, net), verdict(ev < net/10))
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
		p("- Servers: evserver is one goroutine, so it uses at most one core; netserver's goroutines run on all %d Ps (GOMAXPROCS); ", runtime.NumCPU())
		p("wrk (2 threads) runs on the same cores, so both servers compete with the load generator, and with whatever else the machine was doing (see the load average). ")
		p("An idle connection costs netserver a goroutine (its stack) and its read buffer; evserver keeps only per-connection state in the one loop.\n")
	}
}

func serverTables(w io.Writer, servers []serverRow) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("wrk, keep-alive GET, one row per round (servers interleaved, each run on a fresh server process), then the median. ")
	p("CPU µs/req is the server process's CPU time (user + system) over the requests wrk completed: ")
	p("it leaves out time other processes held the CPU, so it is the steadier figure here.\n\n")
	p("| connections | round | evserver req/s | netserver req/s | evserver/netserver | evserver CPU µs/req | netserver CPU µs/req | evserver/netserver |\n")
	p("|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, conns := range wrkConns(servers) {
		type pair struct{ ev, net serverRow }
		rounds := map[float64]*pair{}
		var order []float64
		for _, r := range servers {
			if r.kind != "wrk" || r.vals["conns"] != conns {
				continue
			}
			round := r.vals["round"]
			if rounds[round] == nil {
				rounds[round] = &pair{}
				order = append(order, round)
			}
			if r.server == "evserver" {
				rounds[round].ev = r
			} else {
				rounds[round].net = r
			}
		}
		for _, round := range order {
			pr := rounds[round]
			ev, net := pr.ev.vals["rps"], pr.net.vals["rps"]
			evCPU, netCPU := cpuPerRequest(pr.ev), cpuPerRequest(pr.net)
			p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", num(conns), num(round), num(ev), num(net), ratio(ev, net),
				num(evCPU), num(netCPU), ratio(evCPU, netCPU))
		}
		ev, net := medianRPS(servers, "evserver", conns), medianRPS(servers, "netserver", conns)
		evCPU, netCPU := medianCPU(servers, "evserver", conns), medianCPU(servers, "netserver", conns)
		p("| %s | median | %s | %s | **%s** | %s | %s | **%s** |\n", num(conns), num(ev), num(net), ratio(ev, net),
			num(evCPU), num(netCPU), ratio(evCPU, netCPU))
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
	p("\nResident memory (VmRSS) of a fresh server process, before and while it holds idle keep-alive connections (one request answered on each):\n\n")
	p("| server | connections | RSS before (KiB) | RSS with them (KiB) | KiB per idle connection |\n|---|--:|--:|--:|--:|\n")
	for _, r := range servers {
		if r.kind == "rss" {
			p("| %s | %s | %s | %s | %s |\n", r.server, num(r.vals["conns"]), num(r.vals["base_kb"]), num(r.vals["loaded_kb"]), num(perConn(servers, r.server)))
		}
	}
	ev, net := perConn(servers, "evserver"), perConn(servers, "netserver")
	p("\nPer idle connection evserver/netserver: **%s**.\n", ratio(ev, net))
}

func wrkConns(servers []serverRow) []float64 {
	var out []float64
	for _, r := range servers {
		if r.kind == "wrk" && !slices.Contains(out, r.vals["conns"]) {
			out = append(out, r.vals["conns"])
		}
	}
	slices.Sort(out)
	return out
}

func medianRPS(servers []serverRow, server string, conns float64) float64 {
	var v []float64
	for _, r := range servers {
		if r.kind == "wrk" && r.server == server && r.vals["conns"] == conns {
			v = append(v, r.vals["rps"])
		}
	}
	return median(v)
}

// pNote is ", benchstat p=…" for this package against impl, or "".
func pNote(row, unit, impl string) string {
	if pv := pvalues[key{row, unit}][impl]; pv != "" {
		return ", benchstat " + pv
	}
	return ""
}

// cpuPerRequest is the server's CPU time per completed request, in µs.
func cpuPerRequest(r serverRow) float64 {
	if r.vals == nil || r.vals["requests"] == 0 || r.vals["clk_tck"] == 0 {
		return math.NaN()
	}
	return r.vals["cpu_ticks"] / r.vals["clk_tck"] * 1e6 / r.vals["requests"]
}

func medianCPU(servers []serverRow, server string, conns float64) float64 {
	var v []float64
	for _, r := range servers {
		if r.kind == "wrk" && r.server == server && r.vals["conns"] == conns {
			v = append(v, cpuPerRequest(r))
		}
	}
	return median(v)
}

// perConn is the resident memory one idle connection adds, in KiB.
func perConn(servers []serverRow, server string) float64 {
	for _, r := range servers {
		if r.kind == "rss" && r.server == server {
			return (r.vals["loaded_kb"] - r.vals["base_kb"]) / r.vals["conns"]
		}
	}
	return math.NaN()
}

// num formats with three significant digits at least, and no exponent.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == math.Trunc(v) || math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return strconv.FormatFloat(a/b, 'f', 3, 64) + "×"
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
}

func signedNum(v float64) string {
	if v >= 0 {
		return "+" + num(v)
	}
	return num(v)
}

func signed(v float64) string {
	s := pct(v)
	if v >= 0 {
		s = "+" + s
	}
	return s
}
