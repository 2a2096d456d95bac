package main

import (
	"strings"
	"testing"
)

// The ladder divides each rung's median CPU per request by the rung
// below's and by cfloor's, and draws nothing without ladder lines.
func TestLadderReport(t *testing.T) {
	var lines strings.Builder
	for i, r := range ladderRungs {
		for round := 1; round <= 2; round++ {
			// CPU per request 10, 11, 12, ... µs up the ladder, 0.1 µs more in round 2.
			lines.WriteString("ladder server=" + r.server + " conns=100 round=" + num(float64(round)) +
				" rps=1 requests=100000 cpu_ticks=" + num(float64(100+10*i+round-1)) + " user_ticks=10 clk_tck=100 ctxsw=5000\n")
		}
	}
	lines.WriteString("wrk server=cfloor conns=100 round=1 rps=1 requests=100000 cpu_ticks=500 clk_tck=100 ctxsw=1\n")
	servers, err := parseServer(write(t, "server.txt", lines.String()))
	if err != nil {
		t.Fatal(err)
	}
	var w strings.Builder
	ladderReport(&w, servers)
	wantLines(t, w.String(), []string{
		"| cfloor | the C floor (bench/cfloor) | 10.1 (10–10.1) | – | – | 1 (1–1) | 0.05 (0.05–0.05) |",
		"| gofloor | cfloor in Go: raw system calls, cfloor's loose parser (bench/cmd/gofloor) | 11.1 (11–11.1) | 1.100× (p=0.333) | 1.100× (p=0.333) | 1 (1–1) | 0.05 (0.05–0.05) |",
		"| evserver | + evserver's loop: timeouts on its clock, the connection cap and eviction, bounded output, the yield before each `Wait` | 14.1 (14–14.1) | 1.077× (p=0.333) | 1.398× (p=0.333) | 1 (1–1) | 0.05 (0.05–0.05) |",
	})
	w.Reset()
	ladderReport(&w, servers[len(servers)-1:]) // the wrk line alone
	if w.Len() != 0 {
		t.Errorf("a run without ladder lines drew:\n%s", w.String())
	}
}
