package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// smallRun parses a small run through every parser, and sets pvalues from
// its benchstat CSV as main does: the figures TestReport and TestTargets
// check.
func smallRun(t *testing.T) (s, wake samples, servers []serverRow) {
	t.Helper()
	s, err := parseGo(write(t, "go.txt", `goos: linux
BenchmarkWaitReady/ready=1/impl=epoll-2    1000  104 ns/op  100 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkWaitReady/ready=1/impl=epoll-2    1000  106 ns/op  102 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkWaitReady/ready=1/impl=raw-2      1000  100 ns/op  100 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkWaitReady/ready=1/impl=raw-2      1000  100 ns/op  100 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkWaitReady/ready=1/impl=unix-2     1000  120 ns/op  120 cpu-ns/op  0 B/op  1 allocs/op
--- BENCH: BenchmarkWaitIdle/idle=100000/impl=raw-2
    bench_test.go:1: a log line
`))
	if err != nil {
		t.Fatal(err)
	}
	if pvalues, err = parseBenchstatCSV(write(t, "stat.csv", `goos: linux
,epoll,,raw,,,,unix,,,
,cpu-sec/op,CI,cpu-sec/op,CI,vs base,P,cpu-sec/op,CI,vs base,P
WaitReady/ready=1-2,1.01e-07,5%,1e-07,0%,~,p=0.500 n=2,1.2e-07,0%,+18.81%,p=0.333 n=2
geomean,1.01e-07,,1e-07,,-0.99%,,1.2e-07,,+18.81%,
`)); err != nil {
		t.Fatal(err)
	}
	servers, err = parseServer(write(t, "server.txt", `wrk server=evserver conns=100 round=1 rps=2000 errors=0 non2xx=0 requests=10000 cpu_ticks=50 user_ticks=20 sys_ticks=30 clk_tck=100
wrk server=netserver conns=100 round=1 rps=1000 errors=0 non2xx=0 requests=5000 cpu_ticks=50 user_ticks=20 sys_ticks=30 clk_tck=100
wrk server=gnetserver conns=100 round=1 rps=1600 errors=0 non2xx=0 requests=8000 cpu_ticks=50 user_ticks=20 sys_ticks=30 clk_tck=100
wrk server=evserver conns=100 round=2 rps=2200 errors=0 non2xx=0 requests=10000 cpu_ticks=50 user_ticks=20 sys_ticks=30 clk_tck=100
wrk server=netserver conns=100 round=2 rps=1000 errors=0 non2xx=0 requests=5000 cpu_ticks=50 user_ticks=20 sys_ticks=30 clk_tck=100
wrk server=gnetserver conns=100 round=2 rps=1800 errors=0 non2xx=0 requests=8000 cpu_ticks=50 user_ticks=20 sys_ticks=30 clk_tck=100
syscalls server=evserver requests=1000 all=2500 read=1000 write=1000 epoll_pwait=400
syscalls server=gnetserver requests=1000 all=3000 read=1000 write=1000 epoll_pwait=500
rss server=evserver conns=1000 base_kb=1000 loaded_kb=1500
rss server=netserver conns=1000 base_kb=1000 loaded_kb=9000
rss server=gnetserver conns=1000 base_kb=1000 loaded_kb=3000
memcost server=evserver kind=halfhead conns=1000 base_kb=1000 loaded_kb=6000 head_bytes=4128
`))
	if err != nil {
		t.Fatal(err)
	}
	wake, err = parseGo(write(t, "wake.txt", `BenchmarkWakeStorm/impl=waker-2  1000  20 ns/op  20 cpu-ns/op  0.001 writes/wake  0 lost-wakes
BenchmarkWakeStorm/impl=write-2  1000  400 ns/op  400 cpu-ns/op  1 writes/wake  0 lost-wakes
`))
	if err != nil {
		t.Fatal(err)
	}
	return s, wake, servers
}

func wantLines(t *testing.T, md string, want []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(md, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

// TestReport runs the parsers and the report on a small run and checks the
// tables that come out; TestTargets checks the verdicts.
func TestReport(t *testing.T) {
	s, wake, servers := smallRun(t)
	if got := s.med("WaitReady/ready=1", "ns/op", "epoll"); got != 105 {
		t.Errorf("median wall time of epoll = %v, want 105", got)
	}
	var b strings.Builder
	report(&b, s, wake, servers, "machine", "the floor's table", "this package's table", "scripts/bench.sh")
	wantLines(t, b.String(), []string{
		"## Machine\n\n```\nmachine\n```",
		"| WaitReady/ready=1 | ns/op | 105 | 100 | – | 120 | 1.050× | – | 0.875× | 1.9% |",
		"- WaitReady/ready=1 impl=unix: up to 1 allocs/op",
		"0.50 vs 8 KiB: 0.062× | **met** |", // a targets row: report includes them
		"| waker | 20 | – | 0.001 | – |",
		"| evserver | 1000 | 2.5 | 1 | 1 | 0 | 0.4 | 0 |",
		"| 100 | 20 | 30 | 25 | 37.5 | 40 | 60 |",
		"wrk reported no socket errors and no non-2xx responses.",
		"| evserver | 1000 | 1000 | 1500 | 0.50 |",
		"| half a head, never ended | 1000 | 5 | – | – | – | – |", // memcostTable is hooked in
		"## benchstat, the floor as base\n\n```\nthe floor's table\n```",
		"## benchstat, this package as base\n\n```\nthis package's table\n```",
		"## Reproduce\n\n```sh\nscripts/bench.sh\n```",
	})
}
