package main

import (
	"slices"
	"strings"
	"testing"
)

// realHeader is what go test prints before a package's benchmarks, and
// benchstat copies to its output.
const realHeader = `goos: linux
goarch: amd64
pkg: github.com/rawpoll/epoll/bench
cpu: Intel(R) Xeon(R) Processor
`

// A real round of scripts/bench.sh (2 cores, load 2-5), headers, a
// benchmark's log line and the Wake storm's reordered units included.
const realGoOutput = realHeader + `BenchmarkWaitReady/ready=1/impl=epoll-2         	   96283	       241.3 ns/op	       234.7 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkWaitReady/ready=64/impl=epoll-2        	    6192	      3948 ns/op	      3864 cpu-ns/op	        61.68 ns/event	       0 B/op	       0 allocs/op
BenchmarkWaitIdle/idle=100000/impl=raw-2        	  122575	       406.9 ns/op	       202.1 cpu-ns/op	       0 B/op	       0 allocs/op
--- BENCH: BenchmarkWaitIdle/idle=100000/impl=raw-2
    bench_test.go:183: RLIMIT_NOFILE stays at 20000: 100000 idle registrations are 10 eventfds under 10000 fd numbers each
BenchmarkWakeStorm/impl=waker-2         	 1297500	        16.73 ns/op	         0 lost-wakes	         0.0002004 writes/wake
BenchmarkWaitReady/ready=1/impl=epoll-2         	  100000	       239.9 ns/op	       230.1 cpu-ns/op	       0 B/op	       0 allocs/op
PASS
`

func TestParseGo(t *testing.T) {
	s, err := parseGo(write(t, "go.txt", realGoOutput))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		row, unit, impl string
		want            []float64
	}{
		{"WaitReady/ready=1", "ns/op", "epoll", []float64{241.3, 239.9}}, // every round, in order
		{"WaitReady/ready=1", "cpu-ns/op", "epoll", []float64{234.7, 230.1}},
		{"WaitReady/ready=64", "ns/event", "epoll", []float64{61.68}},
		{"WaitIdle/idle=100000", "allocs/op", "raw", []float64{0}},
		{"WakeStorm", "writes/wake", "waker", []float64{0.0002004}},
		{"WakeStorm", "lost-wakes", "waker", []float64{0}},
	} {
		if got := s[key{c.row, c.unit}][c.impl]; !slices.Equal(got, c.want) {
			t.Errorf("%s %s impl=%s: %v, want %v", c.row, c.unit, c.impl, got, c.want)
		}
	}
	// 4 units for ready=1 and for idle, 5 for ready=64, 3 for the storm:
	// iterations are no unit, and log lines no rows.
	if len(s) != 16 {
		var keys []string
		for k := range s {
			keys = append(keys, k.row+" "+k.unit)
		}
		slices.Sort(keys)
		t.Errorf("%d rows and units, want 16:\n%s", len(s), strings.Join(keys, "\n"))
	}
}

func TestParseGoRejects(t *testing.T) {
	// A line without impl= is another benchmark's, not an error.
	if _, err := parseGo(write(t, "none.txt", "goos: linux\nBenchmarkOther-2  100  5 ns/op\nPASS\n")); err == nil {
		t.Error("no error for output without a single /impl= result")
	}
	_, err := parseGo(write(t, "bad.txt", "BenchmarkWaitReady/ready=1/impl=epoll-2  1000  2x1 ns/op\n"))
	if err == nil || !strings.Contains(err.Error(), "2x1") {
		t.Errorf("a malformed value: err = %v, want one that quotes the line", err)
	}
	if _, err := parseGo(t.TempDir() + "/missing.txt"); err == nil {
		t.Error("no error for a missing file")
	}
}
