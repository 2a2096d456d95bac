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
	wakeFile := flag.String("wake", "", "raw `go test -bench WakeStorm` output of the root package, every round")
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
	var wake map[key]map[string][]float64
	if *wakeFile != "" {
		if wake, err = parseGo(*wakeFile); err != nil {
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
	report(&w, samples, wake, servers, readOr(*machineFile), readOr(*statFloor), readOr(*statPkg), *command)
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

// roundRatios is the lowest, median and highest ratio a/b of the same
// round's samples: the spread over runs, each round being its own process.
func roundRatios(s samples, row, unit, a, b string) (lo, med, hi float64) {
	va, vb := s[key{row, unit}][a], s[key{row, unit}][b]
	var r []float64
	for i := range min(len(va), len(vb)) {
		r = append(r, va[i]/vb[i])
	}
	if len(r) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	return slices.Min(r), median(r), slices.Max(r)
}

func rps(r serverRow) float64 { return r.vals["rps"] }

// serverRatio is the ratio of two servers' medians of f over the rounds at
// conns connections, and the Mann-Whitney p-value of their rounds.
func serverRatio(servers []serverRow, a, b string, conns float64, f func(serverRow) float64) (float64, string) {
	va, vb := valuesOf(servers, a, conns, f), valuesOf(servers, b, conns, f)
	return median(va) / median(vb), fmt.Sprintf("p=%.3f n=%d+%d", mannWhitney(va, vb), len(va), len(vb))
}

func valuesOf(servers []serverRow, server string, conns float64, f func(serverRow) float64) []float64 {
	var v []float64
	for _, r := range servers {
		if r.kind == "wrk" && r.server == server && r.vals["conns"] == conns {
			v = append(v, f(r))
		}
	}
	return v
}

func medianOf(servers []serverRow, server string, conns float64, f func(serverRow) float64) float64 {
	return median(valuesOf(servers, server, conns, f))
}

// mannWhitney is the two-sided p-value of the Mann-Whitney U test, exact:
// every split of the pooled samples into groups of the two sizes is tried
// (924 for 6 and 6), ties ranked by their average.
func mannWhitney(a, b []float64) float64 {
	n := len(a) + len(b)
	if len(a) == 0 || len(b) == 0 || n > 24 {
		return math.NaN()
	}
	pooled := append(slices.Clone(a), b...)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return cmpFloat(pooled[i], pooled[j]) })
	rank := make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j < n && pooled[idx[j]] == pooled[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			rank[idx[k]] = float64(i+j+1) / 2
		}
		i = j
	}
	mean := float64(len(a)*(len(b))) / 2
	u := func(mask uint32) float64 {
		var sum float64
		for i := range n {
			if mask&(1<<i) != 0 {
				sum += rank[i]
			}
		}
		return sum - float64(len(a)*(len(a)+1))/2
	}
	obs := math.Abs(u(1<<len(a)-1) - mean)
	var extreme, total float64
	for mask := uint32(0); mask < 1<<n; mask++ {
		if bitsSet(mask) != len(a) {
			continue
		}
		total++
		if math.Abs(u(mask)-mean) >= obs-1e-9 {
			extreme++
		}
	}
	return extreme / total
}

func bitsSet(x uint32) int {
	c := 0
	for ; x != 0; x &= x - 1 {
		c++
	}
	return c
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// syscallsPerRequest is a server's count of one system call (or "all") per
// request in the fixed-work run.
func syscallsPerRequest(servers []serverRow, server, name string) float64 {
	for _, r := range servers {
		if r.kind == "syscalls" && r.server == server && r.vals["requests"] > 0 {
			return r.vals[name] / r.vals["requests"] // perf lists every call asked for; a missing one is 0
		}
	}
	return math.NaN()
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

// num3 formats small ratios with three significant digits.
func num3(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func ratioF(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "–"
	}
	return strconv.FormatFloat(r, 'f', 3, 64) + "×"
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

var serverNames = []string{"evserver", "gnetserver", "netserver"}

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

func waitsPer(servers []serverRow, server string) float64 {
	return syscallsPerRequest(servers, server, "epoll_wait") + syscallsPerRequest(servers, server, "epoll_pwait") + syscallsPerRequest(servers, server, "epoll_pwait2")
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

// userPerRequest and kernelPerRequest split cpuPerRequest.
func userPerRequest(r serverRow) float64   { return ticksPerRequest(r, "user_ticks") }
func kernelPerRequest(r serverRow) float64 { return ticksPerRequest(r, "sys_ticks") }

func ticksPerRequest(r serverRow, name string) float64 {
	t, ok := r.vals[name]
	if !ok || r.vals["requests"] == 0 || r.vals["clk_tck"] == 0 {
		return math.NaN()
	}
	return t / r.vals["clk_tck"] * 1e6 / r.vals["requests"]
}

// cpuPerRequest is the server's CPU time per completed request, in µs.
func cpuPerRequest(r serverRow) float64 {
	if r.vals == nil || r.vals["requests"] == 0 || r.vals["clk_tck"] == 0 {
		return math.NaN()
	}
	return r.vals["cpu_ticks"] / r.vals["clk_tck"] * 1e6 / r.vals["requests"]
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
