// The ladder: from the C floor to evserver at 100 connections, one change
// a rung, each rung measured as the servers are (scripts/bench.sh's
// "ladder" lines).

package main

import (
	"fmt"
	"io"
)

// ladderRungs are the ladder's servers, bottom first, and what each adds to
// the one below it.
var ladderRungs = []struct{ server, adds string }{
	{floorServer, "the C floor (bench/cfloor)"},
	{"gofloor", "cfloor in Go: raw system calls, cfloor's loose parser (bench/cmd/gofloor)"},
	{"gofloor-pkg", "+ this package's `Poll`: `Register`, `Reregister`, `Wait(Forever)`"},
	{"gofloor-strict", "+ evserver's strict parser (internal/http1)"},
	{"evserver", "+ evserver's loop: timeouts on its clock, the connection cap and eviction, bounded output, the yield before each `Wait`"},
}

func ladderReport(w io.Writer, servers []serverRow) {
	const conns = 100
	cpu := func(server string) []float64 { return kindValues(servers, "ladder", server, conns, cpuPerRequest) }
	if len(cpu(floorServer)) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("\n## From the C floor to evserver, one change a rung\n\n")
	p("Where evserver's CPU per request goes: each rung is the one below it with one change, measured as the servers above are ")
	p("(wrk -t2 -c%d, one server alive at a time, the rungs' order rotated each round; rounds: %d). ", conns, len(cpu(floorServer)))
	p("Medians (min–max); ×below is the ratio to the rung below and ×floor to cfloor, each with the exact Mann-Whitney p of the rounds.\n\n")
	p("| rung | adds | CPU µs/req | ×below | ×floor | user µs/req | switches/req |\n|---|---|--:|--:|--:|--:|--:|\n")
	vs := func(a, b string) string {
		va, vb := cpu(a), cpu(b)
		return fmt.Sprintf("%s (p=%.3f)", ratioF(median(va)/median(vb)), mannWhitney(va, vb))
	}
	for i, r := range ladderRungs {
		below, floor := "–", "–"
		if i > 0 {
			below, floor = vs(r.server, ladderRungs[i-1].server), vs(r.server, floorServer)
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", r.server, r.adds, minMax(cpu(r.server)), below, floor,
			minMax(kindValues(servers, "ladder", r.server, conns, userPerRequest)),
			minMax(kindValues(servers, "ladder", r.server, conns, ctxswPerRequest)))
	}
	p("\n%s", ladderFindings)
}

// ladderFindings is what the ladder showed when it was first climbed, by
// hand on 2026-12-07 (the loads are given); the table above is this run's.
const ladderFindings = `Climbed by hand first (wrk -t2 -c100, rotated rounds, load 0.46-0.49 at the start of
each set): gofloor cost 0.990× cfloor (6 rounds, p=0.91), and 1.023× (10 rounds, p=0.007) in
bench.sh's first run with the ladder: Go's system call stubs and runtime cost a request between
nothing and 2%. The package's ` + "`Wait`" + ` on gofloor cost 1.009× the raw waits (8 rounds, p=0.43; 1.053×,
p=0.061, in an earlier set of 6), and the strict parser on the raw gofloor 1.009× (6 rounds,
p=1.0). evserver cost 1.032× gofloor with both (8 rounds, p=0.047), all of it in user time (0.50
against 0.36 µs a request). A profile of the two (perf record -g, 4 s each) put that in
evserver's loop: the yield before each ` + "`Wait`" + ` (the scheduler's ` + "`findRunnable`" + `, ` + "`lock2`" + `, ` + "`wakep`" + `,
about 0.9% of all samples, the price of fewer context switches, see above); three clock reads per
` + "`Wait`" + ` (0.5%; two since a timed ` + "`Wait`" + ` reads the monotonic clock alone); and two costs now gone, a
locked add after every read (0.4%; the count is now kept once per batch) and, in the range over
the events, ` + "`Token`" + `'s 8-byte load spanning the two stores of the by-value copy of a 12-byte
` + "`Event`" + `, which the CPU cannot forward from its store buffer (LAYOUT.md; ` + "`Token`" + ` now reads two
halves: 1.24 against 7.41 ns an event in BenchmarkRangeTokens).
`
