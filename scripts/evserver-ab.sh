#!/usr/bin/env bash
# Compares cmd/evserver at two git revisions (each built against its own
# revision of the package) under the same wrk load: CPU per request, req/s,
# context switches per request and p99 latency, in alternated rounds (A B,
# B A, ...), one fresh server process per run, then benchstat over the
# rounds (medians, confidence intervals, p-values). For "did this change cost
# the loop anything": the strict parser, the deadline lists.
#
#   scripts/evserver-ab.sh OLD_REV [NEW_REV]     # NEW_REV: the work tree
#   AB_ROUNDS=8 AB_DURATION=5s AB_CONNS="100 1000" scripts/evserver-ab.sh main~3
#
# Installs wrk (Debian) and benchstat (Go module proxy) if missing. Prints
# the load average before and after: take figures on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 OLD_REV [NEW_REV]" >&2; exit 2; }
rounds=${AB_ROUNDS:-8}
duration=${AB_DURATION:-5s}
conns_list=${AB_CONNS:-100 1000}

command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends wrk; }
benchstat=$(go env GOPATH)/bin/benchstat
[ -x "$benchstat" ] || go install golang.org/x/perf/cmd/benchstat@latest

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	git worktree remove --force "$tmp/old" 2>/dev/null || true
	[ -z "${new_tree:-}" ] || git worktree remove --force "$new_tree" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

git worktree add -q --detach "$tmp/old" "$1"
(cd "$tmp/old" && go build -o "$tmp/A" ./cmd/evserver)
if [ $# -ge 2 ]; then
	new_tree=$tmp/new
	git worktree add -q --detach "$new_tree" "$2"
	(cd "$new_tree" && go build -o "$tmp/B" ./cmd/evserver)
else
	go build -o "$tmp/B" ./cmd/evserver
fi
label_a=$(git rev-parse --short "$1")
label_b=$([ $# -ge 2 ] && git rev-parse --short "$2" || echo worktree)
ulimit -n "$(ulimit -Hn)"

run() { # run BIN CONNS: one wrk run on a fresh server; appends a benchmark line to $tmp/BIN.txt
	"$tmp/$1" -addr 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	local addr=
	for _ in $(seq 100); do
		addr=$(sed -n 's/^listening on //p' "$tmp/out")
		[ -n "$addr" ] && break
		sleep 0.1
	done
	[ -n "$addr" ] || { cat "$tmp/err"; echo "server $1 did not start" >&2; exit 1; }
	wrk -t1 -c"$2" -d"$duration" --latency "http://$addr/" >"$tmp/wrk.txt"
	local ticks ctx
	ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	ctx=$(cat /proc/"$pid"/task/*/status | awk '/^(non)?voluntary_ctxt_switches:/ {n += $2} END {print n}')
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	awk -v conns="$2" -v ticks="$ticks" -v ctx="$ctx" -v hz="$(getconf CLK_TCK)" '
		/ requests in / {req = $1}
		/^Requests\/sec:/ {rps = $2}
		/Socket errors|Non-2xx/ {bad = 1}
		$1 == "99%" {v = $2; f = 1; if (v ~ /ms$/) f = 1000; else if (v ~ /us$/) f = 1; else if (v ~ /s$/) f = 1e6; sub(/[a-z]+$/, "", v); p99 = v * f}
		END {
			if (bad || req == 0) { print "wrk reported errors" > "/dev/stderr"; exit 1 }
			printf "BenchmarkEvserver/conns=%s 1 %.4f cpu-us/req %.1f req/s %.5f ctxsw/req %.1f p99-us\n", conns, ticks / hz * 1e6 / req, rps, ctx / req, p99
		}' "$tmp/wrk.txt" >>"$tmp/$1.txt"
}

echo "A = $label_a, B = $label_b; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < rounds; r++)); do
	for conns in $conns_list; do
		if ((r % 2 == 0)); then run A "$conns"; run B "$conns"; else run B "$conns"; run A "$conns"; fi
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$tmp/A.txt" "$tmp/$label_a"
cp "$tmp/B.txt" "$tmp/$label_b"
(cd "$tmp" && "$benchstat" "$label_a" "$label_b")
