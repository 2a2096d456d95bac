// The server figures: the lines scripts/bench.sh writes from wrk, perf stat
// and /proc for each server, and the per-request and per-connection figures
// drawn from them.

package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

var serverNames = []string{"evserver", "gnetserver", "netserver"}

// serverRow is one line of the server figures: a kind ("wrk", "rss",
// "memcost", ...), the server ("evserver", "netserver", ...), for memcost
// the kind of client (its kind=) and named values.
type serverRow struct {
	kind, server, client string
	vals                 map[string]float64
}

// parseServer reads lines such as
// "wrk server=evserver conns=100 round=1 rps=51234.5 errors=0" and
// "rss server=netserver conns=10000 base_kb=5000 loaded_kb=90000" and
// "memcost server=gnetserver kind=halfhead conns=1000 base_kb=5000 loaded_kb=9000".
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
			switch k {
			case "server":
				r.server = v
				continue
			case "kind":
				r.client = v
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

func rps(r serverRow) float64 { return r.vals["rps"] }

// cpuPerRequest is the server's CPU time per completed request, in µs.
func cpuPerRequest(r serverRow) float64 {
	if r.vals == nil || r.vals["requests"] == 0 || r.vals["clk_tck"] == 0 {
		return math.NaN()
	}
	return r.vals["cpu_ticks"] / r.vals["clk_tck"] * 1e6 / r.vals["requests"]
}

// userPerRequest and kernelPerRequest split cpuPerRequest.
func userPerRequest(r serverRow) float64 { return ticksPerRequest(r, "user_ticks") }

func kernelPerRequest(r serverRow) float64 { return ticksPerRequest(r, "sys_ticks") }

func ticksPerRequest(r serverRow, name string) float64 {
	t, ok := r.vals[name]
	if !ok || r.vals["requests"] == 0 || r.vals["clk_tck"] == 0 {
		return math.NaN()
	}
	return t / r.vals["clk_tck"] * 1e6 / r.vals["requests"]
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

func valuesOf(servers []serverRow, server string, conns float64, f func(serverRow) float64) []float64 {
	return kindValues(servers, "wrk", server, conns, f)
}

// kindValues is f of each of server's rows of one kind at conns connections.
func kindValues(servers []serverRow, kind, server string, conns float64, f func(serverRow) float64) []float64 {
	var v []float64
	for _, r := range servers {
		if r.kind == kind && r.server == server && r.vals["conns"] == conns {
			v = append(v, f(r))
		}
	}
	return v
}

func medianOf(servers []serverRow, server string, conns float64, f func(serverRow) float64) float64 {
	return median(valuesOf(servers, server, conns, f))
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

// serverRatio is the ratio of two servers' medians of f over the rounds at
// conns connections, and the Mann-Whitney p-value of their rounds.
func serverRatio(servers []serverRow, a, b string, conns float64, f func(serverRow) float64) (float64, string) {
	va, vb := valuesOf(servers, a, conns, f), valuesOf(servers, b, conns, f)
	return median(va) / median(vb), fmt.Sprintf("p=%.3f n=%d+%d", mannWhitney(va, vb), len(va), len(vb))
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

func waitsPer(servers []serverRow, server string) float64 {
	return syscallsPerRequest(servers, server, "epoll_wait") + syscallsPerRequest(servers, server, "epoll_pwait") + syscallsPerRequest(servers, server, "epoll_pwait2")
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
