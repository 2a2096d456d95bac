package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, name, text string) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReport runs the parsers and the report on a small run and checks the
// figures and verdicts that come out.
func TestReport(t *testing.T) {
	goOut := write(t, "go.txt", `goos: linux
BenchmarkWaitReady/ready=1/impl=epoll-2    1000  104 ns/op  100 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkWaitReady/ready=1/impl=epoll-2    1000  106 ns/op  102 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkWaitReady/ready=1/impl=raw-2      1000  100 ns/op  100 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkWaitReady/ready=1/impl=raw-2      1000  100 ns/op  100 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkWaitReady/ready=1/impl=unix-2     1000  120 ns/op  120 cpu-ns/op  0 B/op  1 allocs/op
--- BENCH: BenchmarkWaitIdle/idle=100000/impl=raw-2
    bench_test.go:1: a log line
`)
	s, err := parseGo(goOut)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.med("WaitReady/ready=1", "ns/op", "epoll"); got != 105 {
		t.Errorf("median wall time of epoll = %v, want 105", got)
	}
	csvOut := write(t, "stat.csv", `goos: linux
,epoll,,raw,,,,unix,,,
,cpu-sec/op,CI,cpu-sec/op,CI,vs base,P,cpu-sec/op,CI,vs base,P
WaitReady/ready=1-2,1.01e-07,5%,1e-07,0%,~,p=0.500 n=2,1.2e-07,0%,+18.81%,p=0.333 n=2
geomean,1.01e-07,,1e-07,,-0.99%,,1.2e-07,,+18.81%,
`)
	if pvalues, err = parseBenchstatCSV(csvOut); err != nil {
		t.Fatal(err)
	}
	servers, err := parseServer(write(t, "server.txt", `wrk server=evserver conns=100 round=1 rps=2000 errors=0 non2xx=0 requests=10000 cpu_ticks=50 clk_tck=100
wrk server=netserver conns=100 round=1 rps=1000 errors=0 non2xx=0 requests=5000 cpu_ticks=50 clk_tck=100
rss server=evserver conns=1000 base_kb=1000 loaded_kb=1500
rss server=netserver conns=1000 base_kb=1000 loaded_kb=9000
`))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	report(&b, s, servers, "machine", "", "", "scripts/bench.sh")
	md := b.String()
	for _, want := range []string{
		// wall 105 vs 100 misses 3%; CPU 101 vs 100 meets it, with benchstat's p
		"| Wait(0), 1 ready fd: within 3% of the RawSyscall6 floor | 105 vs 100: 1.050× (+5.0%) | **missed** | 101 vs 100: 1.010× (+1.0%, p=0.500 n=2) | **met** |",
		"| Wait(0): at least 10% faster than unix.EpollWait | 105 vs 120: 0.875× (-12.5%) | **met** |",
		"| 0 allocs/op in every benchmark of this package | at most 0 allocs/op | **met** |",
		"- WaitReady/ready=1 impl=unix: up to 1 allocs/op",
		"2000 vs 1000 req/s: 2.000× (server CPU per request: 50 vs 100 µs, 0.500×) | **met** |",
		"0.50 vs 8 KiB: 0.062× | **met** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}
