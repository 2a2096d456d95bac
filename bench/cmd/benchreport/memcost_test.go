package main

import (
	"math"
	"strings"
	"testing"
)

// Real memcost lines of scripts/bench.sh (MEMCOST_CONNS=1000, load 1.5-2).
const realMemcostLines = `memcost server=evserver kind=idle conns=1000 base_kb=2808 loaded_kb=3032 dropped=0
memcost server=evserver kind=halfhead conns=1000 base_kb=2748 loaded_kb=8148 head_bytes=4128 dropped=0
memcost server=evserver kind=nonreading conns=50 base_kb=2796 loaded_kb=13640 sent_kb=210937 blocked=0 pipeline=20000 batches=8 block_after_ms=1000
memcost server=gnetserver kind=idle conns=1000 base_kb=6820 loaded_kb=7532 dropped=0
memcost server=gnetserver kind=halfhead conns=1000 base_kb=6960 loaded_kb=7680 head_bytes=4128 dropped=0
memcost server=gnetserver kind=nonreading conns=50 base_kb=6896 loaded_kb=353956 sent_kb=210937 blocked=0 pipeline=20000 batches=8 block_after_ms=1000
memcost server=netserver kind=idle conns=1000 base_kb=4328 loaded_kb=12520 dropped=0
memcost server=netserver kind=halfhead conns=1000 base_kb=4372 loaded_kb=18904 head_bytes=4128 dropped=0
memcost server=netserver kind=nonreading conns=50 base_kb=4436 loaded_kb=7924 sent_kb=204288 blocked=17 pipeline=20000 batches=8 block_after_ms=1000
`

func TestMemcost(t *testing.T) {
	rows, err := parseServer(write(t, "server.txt", realMemcostLines))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 9 {
		t.Fatalf("%d rows, want 9: %+v", len(rows), rows)
	}
	if r := rows[1]; r.kind != "memcost" || r.server != "evserver" || r.client != "halfhead" || r.vals["conns"] != 1000 {
		t.Errorf("second row: %+v", r)
	}
	for _, c := range []struct {
		server, kind string
		want         float64
	}{
		{"evserver", "idle", (3032.0 - 2808) / 1000},
		{"evserver", "halfhead", (8148.0 - 2748) / 1000},
		{"evserver", "nonreading", (13640.0 - 2796) / 50},
		{"gnetserver", "nonreading", (353956.0 - 6896) / 50},
		{"netserver", "halfhead", (18904.0 - 4372) / 1000},
	} {
		if got := memcostPerConn(rows, c.server, c.kind); !near(got, c.want) {
			t.Errorf("%s %s: %v KiB per connection, want %v", c.server, c.kind, got, c.want)
		}
	}
	if v := memcostPerConn(rows, "cfloor", "idle"); !math.IsNaN(v) {
		t.Errorf("a server not measured: %v KiB per connection, want NaN", v)
	}

	var b strings.Builder
	memcostTable(&b, rows)
	wantLines(t, b.String(), []string{
		"### What one connection costs, by client kind (KiB per connection, RSS)",
		"| client | connections | evserver | gnet | net | evserver/gnet | evserver/net |",
		"| idle (one request answered) | 1000 | 0.22 | 0.71 | 8.19 | 0.315× | 0.027× |",
		"| half a head, never ended | 1000 | 5.40 | 0.72 | 14.5 | 7.500× | 0.372× |",
		"| pipelines GETs, never reads | 50 | 217 | 6941 | 69.8 | 0.031× | 3.109× |",
		"A half head is the 4128 bytes",
		"evserver 4219 KiB (writes blocked on 0 of 50), gnetserver 4219 KiB (writes blocked on 0 of 50), netserver 4086 KiB (writes blocked on 17 of 50)",
		"- idle (one request answered): a 96-byte struct",
		"× 20000 at a time, up to 8 times, stops once a write has not finished within 1000 ms",
	})
	if strings.Contains(b.String(), "closed or answered") {
		t.Errorf("a note of dropped connections where none were:\n%s", b.String())
	}
}

// What each never-reading connection sent, and connections a server dropped
// while measured, are listed.
func TestMemcostNotes(t *testing.T) {
	rows, err := parseServer(write(t, "server.txt", `memcost server=evserver kind=idle conns=100 base_kb=1000 loaded_kb=1010
memcost server=evserver kind=halfhead conns=100 base_kb=1000 loaded_kb=1500 head_bytes=4128 dropped=3
memcost server=evserver kind=nonreading conns=10 base_kb=1000 loaded_kb=2000 sent_kb=1000 blocked=10 pipeline=20000 batches=3 block_after_ms=1000
memcost server=gnetserver kind=nonreading conns=10 base_kb=1000 loaded_kb=9000 sent_kb=15820 blocked=0 pipeline=20000 batches=3 block_after_ms=1000
`))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	memcostTable(&b, rows)
	wantLines(t, b.String(), []string{
		"| idle (one request answered) | 100 | 0.10 | – | – | – | – |",
		"| pipelines GETs, never reads | 10 | 100 | 800 | – | 0.125× | – |",
		"evserver 100 KiB (writes blocked on 10 of 10), gnetserver 1582 KiB (writes blocked on 0 of 10)",
		"so not in the figure: evserver, halfhead: 3 of 100.",
		"A half head is the 4128 bytes",
	})

	b.Reset()
	memcostTable(&b, []serverRow{{kind: "rss", server: "evserver", vals: map[string]float64{"conns": 10}}})
	if b.Len() != 0 {
		t.Errorf("without memcost lines: %q, want nothing", b.String())
	}
}
