// What one connection costs each server, by the kind of client holding it:
// scripts/bench.sh's memcost lines (issue 24, item 4).

package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// memcostKinds are the client kinds of the memcost lines in the table's
// order, each with what bounds evserver's cost for it (cmd/evserver's
// conn, keep and -max-pending-output).
var memcostKinds = []struct{ kind, name, bound string }{
	{"idle", "idle (one request answered)",
		"a 96-byte struct (with its links in its loop's deadline list) and a slot in its loop's table; no buffer"},
	{"halfhead", "half a head, never ended",
		"the head buffer, kept at the size of what arrived and never over -max-head-bytes (8 KiB) before the 431, until -header-timeout (20 s) closes it"},
	{"nonreading", "pipelines GETs, never reads",
		"what the kernel's socket buffers cannot take: responses owed up to -max-pending-output (64 KiB), after which it stops reading, plus the unanswered rest of one 64 KiB read"},
}

// memcostRow is server's memcost line for client kind, if there is one.
func memcostRow(servers []serverRow, server, kind string) (serverRow, bool) {
	for _, r := range servers {
		if r.kind == "memcost" && r.server == server && r.client == kind {
			return r, true
		}
	}
	return serverRow{}, false
}

// memcostPerConn is the resident memory one connection of kind adds to
// server, in KiB; NaN if it was not measured.
func memcostPerConn(servers []serverRow, server, kind string) float64 {
	r, ok := memcostRow(servers, server, kind)
	if !ok || r.vals["conns"] == 0 {
		return math.NaN()
	}
	return (r.vals["loaded_kb"] - r.vals["base_kb"]) / r.vals["conns"]
}

// memcostTable writes the table of what one connection costs, by client
// kind, and what bounds each figure; nothing if there are no memcost lines.
func memcostTable(w io.Writer, servers []serverRow) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	if !slices.ContainsFunc(servers, func(r serverRow) bool { return r.kind == "memcost" }) {
		return
	}
	p("\n### What one connection costs, by client kind (KiB per connection, RSS)\n\n")
	p("Each figure is (VmRSS − VmRSS before) / connections of a fresh server process holding connections of one kind only, ")
	p("VmRSS read every 0.2 s once the clients are in place and taken when it has not grown for 1 s. ")
	if r, ok := memcostRow(servers, "evserver", "halfhead"); ok {
		p("A half head is the %s bytes `GET / HTTP/1.1`, `Host: x` and `X-Pad: ` with the rest as its value, and no end. ", num(r.vals["head_bytes"]))
	}
	if r, ok := memcostRow(servers, "evserver", "nonreading"); ok {
		p("A never-reading client writes `GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n` × %s at a time, up to %s times, stops once a write has not finished within %s ms, and never reads. ",
			num(r.vals["pipeline"]), num(r.vals["batches"]), num(r.vals["block_after_ms"]))
	}
	p("Kernel socket buffers are not in RSS. The ratio is evserver's figure over the other's.\n\n")
	p("| client | connections | evserver | gnet | net | evserver/gnet | evserver/net |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, k := range memcostKinds {
		r, ok := memcostRow(servers, "evserver", k.kind)
		if !ok {
			continue
		}
		ev, gn, nt := memcostPerConn(servers, "evserver", k.kind), memcostPerConn(servers, "gnetserver", k.kind), memcostPerConn(servers, "netserver", k.kind)
		p("| %s | %s | %s | %s | %s | %s | %s |\n", k.name, num(r.vals["conns"]), num(ev), num(gn), num(nt), ratio(ev, gn), ratio(ev, nt))
	}
	p("\nWhat bounds evserver's figure:\n\n")
	for _, k := range memcostKinds {
		p("- %s: %s.\n", k.name, k.bound)
	}

	var sent, dropped []string
	for _, sv := range serverNames {
		if r, ok := memcostRow(servers, sv, "nonreading"); ok && r.vals["conns"] > 0 {
			sent = append(sent, fmt.Sprintf("%s %s KiB (writes blocked on %s of %s)", sv, num(r.vals["sent_kb"]/r.vals["conns"]), num(r.vals["blocked"]), num(r.vals["conns"])))
		}
		for _, k := range memcostKinds {
			if r, ok := memcostRow(servers, sv, k.kind); ok && r.vals["dropped"] > 0 {
				dropped = append(dropped, fmt.Sprintf("%s, %s: %s of %s", sv, k.kind, num(r.vals["dropped"]), num(r.vals["conns"])))
			}
		}
	}
	if len(sent) > 0 {
		p("\nSent per never-reading connection: %s. ", strings.Join(sent, ", "))
		p("Loopback's socket buffers take megabytes of requests and answers before a write blocks, so what tells the servers apart is what each holds of the rest: ")
		p("evserver stops reading a connection that owes more than its bound, netserver's goroutine stops in its blocked write (its 4 KiB read buffer, what it read and the answers to it), ")
		p("and gnet reads on while its outbound buffer grows (gnet v2 handles EPOLLIN whatever a connection owes), so its figure grows with what the client sends.\n")
	}
	p("\nRSS counts the Go heap's headroom: the runtime lets the heap grow to about twice what is live before it collects (GOGC=100), ")
	p("and not at all below 4 MB, so a figure of a Go server can be twice the bytes its connections hold, and more over few connections.\n")
	if len(dropped) > 0 {
		p("\nConnections the server closed or answered while they were measured (a timeout), so not in the figure: %s.\n", strings.Join(dropped, "; "))
	}
}
