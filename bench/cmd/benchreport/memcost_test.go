package main

import (
	"math"
	"strings"
	"testing"
)

// Real memcost lines of scripts/bench.sh (MEMCOST_CONNS=1000, load 6-7).
const realMemcostLines = `memcost server=evserver kind=idle conns=1000 base_kb=2740 loaded_kb=2968 dropped=0
memcost server=evserver kind=halfhead conns=1000 base_kb=2816 loaded_kb=8144 head_bytes=4128 dropped=0
memcost server=evserver kind=nonreading conns=50 base_kb=2744 loaded_kb=11432 sent_kb=210937 blocked=0 pipeline=20000 batches=8 block_after_ms=1000
memcost server=gnetserver kind=idle conns=1000 base_kb=7084 loaded_kb=7800 dropped=0
memcost server=gnetserver kind=halfhead conns=1000 base_kb=6820 loaded_kb=16448 head_bytes=4128 dropped=0
memcost server=gnetserver kind=nonreading conns=50 base_kb=6864 loaded_kb=354736 sent_kb=210937 blocked=0 pipeline=20000 batches=8 block_after_ms=1000
memcost server=netserver kind=idle conns=1000 base_kb=4352 loaded_kb=12444 dropped=0
memcost server=netserver kind=halfhead conns=1000 base_kb=4396 loaded_kb=18996 head_bytes=4128 dropped=0
memcost server=netserver kind=nonreading conns=50 base_kb=4392 loaded_kb=7900 sent_kb=210937 blocked=0 pipeline=20000 batches=8 block_after_ms=1000
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
		{"evserver", "idle", (2968.0 - 2740) / 1000},
		{"evserver", "halfhead", (8144.0 - 2816) / 1000},
		{"evserver", "nonreading", (11432.0 - 2744) / 50},
		{"gnetserver", "nonreading", (354736.0 - 6864) / 50},
		{"netserver", "halfhead", (18996.0 - 4396) / 1000},
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
		"| idle (one request answered) | 1000 | 0.23 | 0.72 | 8.09 | 0.318× | 0.028× |",
		"| half a head, never ended | 1000 | 5.33 | 9.63 | 14.6 | 0.553× | 0.365× |",
		"| pipelines GETs, never reads | 50 | 174 | 6957 | 70.2 | 0.025× | 2.477× |",
		"A half head is the 4128 bytes",
		"evserver 4219 KiB (writes blocked on 0 of 50), gnetserver 4219 KiB (writes blocked on 0 of 50), netserver 4219 KiB (writes blocked on 0 of 50)",
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
