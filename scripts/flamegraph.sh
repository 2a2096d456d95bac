#!/usr/bin/env bash
# Draws the flame graphs BENCHMARKS.md links, doc/bench/evserver.svg and
# doc/bench/gnetserver.svg: each server alone under the same wrk load
# (-t2 -c100, 2 loops on this machine's cores), sampled by perf record -g
# at 999 Hz for FLAME_SECONDS (5) seconds, kernel and user stacks, folded
# and drawn by bench/cmd/flamegraph. Takes about 20 seconds. Needs perf and
# wrk (scripts/bench.sh installs both). Usage: scripts/flamegraph.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FLAME_SECONDS:-5}
out=doc/bench
command -v perf >/dev/null || { echo "flamegraph.sh: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "flamegraph.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/evserver" ./cmd/evserver
(cd bench && go build -o "$tmp/gnetserver" ./cmd/gnetserver && go build -o "$tmp/flamegraph" ./cmd/flamegraph)
mkdir -p "$out"
for s in evserver gnetserver; do
	"$tmp/$s" -addr 127.0.0.1:0 >"$tmp/$s.out" 2>&1 &
	pid=$!
	addr=
	for _ in $(seq 50); do
		addr=$(sed -n 's/^listening on //p' "$tmp/$s.out")
		[ -n "$addr" ] && break
		sleep 0.1
	done
	[ -n "$addr" ] || { cat "$tmp/$s.out" >&2; exit 1; }
	wrk -t2 -c100 -d$((seconds + 2))s "http://$addr/" >"$tmp/wrk.txt" &
	wrk_pid=$!
	sleep 1 # past the connection set-up
	perf record -q -F 999 -g -o "$tmp/perf.data" -p "$pid" -- sleep "$seconds" 2>/dev/null
	wait "$wrk_pid"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.txt")
	perf script -i "$tmp/perf.data" 2>/dev/null |
		"$tmp/flamegraph" -title "$s under wrk -t2 -c100 ($rps req/s), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u '+%Y-%m-%d')" >"$out/$s.svg"
	echo "$out/$s.svg: $rps req/s"
done
