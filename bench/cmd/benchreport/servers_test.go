package main

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// Real lines of scripts/bench.sh's server figures (load 3-6): wrk's req/s
// and request count with the server's CPU ticks from /proc, perf stat's
// system call counts, and VmRSS.
const realServerLines = `wrk server=evserver conns=100 round=1 rps=233772.05 errors=0 non2xx=0 requests=467985 cpu_ticks=175 user_ticks=14 sys_ticks=161 clk_tck=100 load1=3.60
wrk server=gnetserver conns=1000 round=1 rps=154886.64 errors=0 non2xx=0 requests=316752 cpu_ticks=121 user_ticks=16 sys_ticks=105 clk_tck=100 load1=4.20
wrk server=evserver conns=10000 round=1 rps=40699.48 errors=0 non2xx=0 requests=93306 cpu_ticks=72 user_ticks=6 sys_ticks=66 clk_tck=100 load1=5.53
syscalls server=evserver requests=2100 all=6177 read=2203 write=2105 writev=0 epoll_wait=0 epoll_pwait=0 epoll_pwait2=664 epoll_ctl=208 futex=123 nanosleep=261 sched_yield=0
syscalls server=gnetserver requests=2100 all=6807 read=2210 write=2138 writev=0 epoll_wait=0 epoll_pwait=1128 epoll_pwait2=0 epoll_ctl=207 futex=170 nanosleep=302 sched_yield=0
rss server=evserver conns=10000 base_kb=2728 loaded_kb=4440
`

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestParseServer(t *testing.T) {
	rows, err := parseServer(write(t, "server.txt", realServerLines))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6: %+v", len(rows), rows)
	}
	if r := rows[0]; r.kind != "wrk" || r.server != "evserver" || r.vals["rps"] != 233772.05 || r.vals["load1"] != 3.60 {
		t.Errorf("first row: %+v", r)
	}
	if got := wrkConns(rows); !slices.Equal(got, []float64{100, 1000, 10000}) {
		t.Errorf("wrkConns = %v, want 100, 1000, 10000 in order", got)
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"evserver CPU µs per request at 100", medianOf(rows, "evserver", 100, cpuPerRequest), 175.0 / 100 * 1e6 / 467985},
		{"its user part", medianOf(rows, "evserver", 100, userPerRequest), 14.0 / 100 * 1e6 / 467985},
		{"its kernel part", medianOf(rows, "evserver", 100, kernelPerRequest), 161.0 / 100 * 1e6 / 467985},
		{"gnet req/s at 1000", medianRPS(rows, "gnetserver", 1000), 154886.64},
		{"evserver system calls per request", syscallsPerRequest(rows, "evserver", "all"), 6177.0 / 2100},
		{"gnet epoll waits per request", waitsPer(rows, "gnetserver"), 1128.0 / 2100},
		{"evserver KiB per idle connection", perConn(rows, "evserver"), (4440.0 - 2728) / 10000},
	} {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	// What was not measured is NaN, which the report prints as "–".
	for what, v := range map[string]float64{
		"netserver's system calls": syscallsPerRequest(rows, "netserver", "all"),
		"netserver's idle memory":  perConn(rows, "netserver"),
		"netserver's req/s":        medianRPS(rows, "netserver", 100),
		"CPU of a missing row":     cpuPerRequest(serverRow{}),
	} {
		if !math.IsNaN(v) {
			t.Errorf("%s = %v, want NaN", what, v)
		}
	}
}

func TestParseServerRejects(t *testing.T) {
	_, err := parseServer(write(t, "server.txt", "wrk server=evserver conns=100 rps=\n"))
	if err == nil || !strings.Contains(err.Error(), "rps=") {
		t.Errorf("an empty value: err = %v, want one that quotes the line", err)
	}
}

// serverRatio gives the ratio of the medians and the exact p-value of the
// rounds, with both counts.
func TestServerRatio(t *testing.T) {
	var rows []serverRow
	for i, v := range []float64{10, 11, 12, 1, 2, 3} {
		server := "evserver"
		if i >= 3 {
			server = "netserver"
		}
		rows = append(rows, serverRow{kind: "wrk", server: server, vals: map[string]float64{"conns": 100, "rps": v}})
	}
	r, p := serverRatio(rows, "evserver", "netserver", 100, rps)
	if r != 5.5 || p != "p=0.100 n=3+3" {
		t.Errorf("serverRatio = %v, %q; want 5.5, p=0.100 n=3+3", r, p)
	}
}
