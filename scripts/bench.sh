#!/usr/bin/env bash
# Runs every benchmark of issue 6 and writes BENCHMARKS.md:
#   - the Go benchmarks of bench/ (this package vs the raw syscall floor,
#     syscall and x/sys/unix) in BENCH_ROUNDS rounds, one process per round,
#     the order of the implementations rotated each round, summarized with
#     benchstat;
#   - the Waker under a storm of Wakes from 8 goroutines (the root
#     package's BenchmarkWakeStorm), coalescing against one write per Wake;
#   - a blocking Wait with and without its raw first millisecond (the root
#     package's BenchmarkBlockingWaitEcho), alternated in BENCH_ROUNDS
#     processes, and where Wait(0)'s floor lies (BenchmarkLifetime);
#   - cmd/evserver (this package, a loop per core) vs bench/cmd/gnetserver
#     (gnet v2, multicore) vs bench/cmd/netserver (package net, goroutine
#     per connection) vs bench/cfloor (the floor: C, an epoll thread per
#     core, built here with gcc), all speaking the same bytes: wrk --latency
#     at 100, 1,000 and IDLE_CONNS connections, the order of the servers
#     rotated each round, with each server's CPU time and context switches;
#     system calls per request (perf stat) on SYSCALL_REQUESTS requests;
#     resident memory with IDLE_CONNS idle keep-alive connections, and
#     what one connection costs by client kind (idle, half a head, never
#     reading; MEMCOST_CONNS of each, a twentieth as many never reading);
#   - the ladder from the C floor to evserver at 100 connections, one change
#     a rung (bench/cmd/gofloor: cfloor in Go, then with this package's
#     Poll, then with evserver's parser), in LADDER_ROUNDS rotated rounds.
# Installs what it needs (wrk, linux-perf and gcc from Debian, benchstat from
# the Go module proxy), exits non-zero on any failure, and takes about 16
# minutes on a 2-core machine with the defaults. Usage: scripts/bench.sh
# Knobs (environment): BENCH_ROUNDS (12), BENCH_TIME (150ms), WRK_DURATION
# (5s), WRK_ROUNDS (8), LADDER_ROUNDS (10), IDLE_CONNS (10000), SYSCALL_REQUESTS (100000),
# MEMCOST_CONNS (1000; 200 when SYSCALL_REQUESTS is under 100000),
# BENCH_OUT (BENCHMARKS.md), BENCH_KEEP (unset: a directory to keep
# benchreport's inputs in, to rerun or compare it on the same run).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

rounds=${BENCH_ROUNDS:-12}
benchtime=${BENCH_TIME:-150ms}
wrk_duration=${WRK_DURATION:-5s}
wrk_rounds=${WRK_ROUNDS:-8}
idle_conns=${IDLE_CONNS:-10000}
syscall_requests=${SYSCALL_REQUESTS:-100000}
servers=(evserver gnetserver netserver cfloor)
ladder=(cfloor gofloor gofloor-pkg gofloor-strict evserver)
ladder_rounds=${LADDER_ROUNDS:-10}
out=${BENCH_OUT:-BENCHMARKS.md}
start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

step() { printf '\n==> %s (%ds)\n' "$*" $(($(date +%s) - start)); }
die() { echo "bench.sh: $*" >&2; exit 1; }

step "install tools"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v perf >/dev/null || missing+=(linux-perf)
command -v gcc >/dev/null || missing+=(gcc libc6-dev) # the C floor: never skipped
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
benchstat=$(go env GOPATH)/bin/benchstat
[ -x "$benchstat" ] || go install golang.org/x/perf/cmd/benchstat@latest

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

step "build"
[ -f cmd/evserver/main.go ] || die "cmd/evserver is missing: the server comparison needs it"
go build -o "$tmp/evserver" ./cmd/evserver
go test -c -o "$tmp/wake.test" .
(
	cd bench
	go vet ./...
	go test -c -o "$tmp/bench.test" .
	go build -o "$tmp/netserver" ./cmd/netserver
	go build -o "$tmp/gnetserver" ./cmd/gnetserver
	go build -o "$tmp/gofloor" ./cmd/gofloor
	go build -o "$tmp/idleconns" ./cmd/idleconns
	go build -o "$tmp/benchreport" ./cmd/benchreport
)
gcc -O2 -Wall -Wextra -Werror -Wno-format-nonliteral -pthread -o "$tmp/cfloor" bench/cfloor/cfloor.c
# The ladder's rungs above gofloor, as commands start_server can run.
printf '#!/bin/sh\nexec "%s/gofloor" -pkg "$@"\n' "$tmp" >"$tmp/gofloor-pkg"
printf '#!/bin/sh\nexec "%s/gofloor" -pkg -strict "$@"\n' "$tmp" >"$tmp/gofloor-strict"
chmod +x "$tmp/gofloor-pkg" "$tmp/gofloor-strict"

# Every fd the hard limit allows: wrk with 1,000 connections and the servers
# with IDLE_CONNS need them. (Go programs raise their own soft limit.)
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((idle_conns + 100)) ] ||
	die "RLIMIT_NOFILE hard limit $(ulimit -Hn) is too low for $idle_conns connections"

# A multiple of 4 rounds puts each of the 4 implementations in each place
# of the order equally often.
step "Go benchmarks: $rounds rounds, -benchtime=$benchtime"
for ((r = 0; r < rounds; r++)); do
	echo "round $((r + 1))/$rounds"
	sleep 1 # let the kernel finish freeing the last round's 100k registrations
	# -test.v would interleave logs; failures still print and fail the run.
	BENCH_ROUND=$r "$tmp/bench.test" -test.run='^$' -test.bench=. -test.benchtime="$benchtime" -test.count=1 >"$tmp/round.txt" ||
		{ cat "$tmp/round.txt"; die "Go benchmarks failed in round $((r + 1))"; }
	cat "$tmp/round.txt" >>"$tmp/go.txt"
	if grep -q 'RLIMIT_NOFILE stays' "$tmp/round.txt"; then
		grep -m1 -o 'RLIMIT_NOFILE stays.*' "$tmp/round.txt" >"$tmp/nofile.txt"
	fi
done
step "Wake storm: $rounds rounds, -benchtime=$benchtime"
for ((r = 0; r < rounds; r++)); do
	"$tmp/wake.test" -test.run='^$' -test.bench=WakeStorm -test.benchtime="$benchtime" -test.count=1 >"$tmp/round.txt" ||
		{ cat "$tmp/round.txt"; die "Wake storm failed in round $((r + 1))"; }
	cat "$tmp/round.txt" >>"$tmp/wake.txt"
done
grep WakeStorm "$tmp/wake.txt"
step "blocking Wait, echo to another process (impl=raw and impl=block), and Wait(0)'s floor (BenchmarkLifetime): $rounds rounds"
for ((r = 0; r < rounds; r++)); do
	BENCH_ROUND=$r "$tmp/wake.test" -test.run='^$' -test.bench='BlockingWaitEcho|Lifetime' -test.benchtime=200000x -test.count=1 >"$tmp/round.txt" ||
		{ cat "$tmp/round.txt"; die "BlockingWaitEcho failed in round $((r + 1))"; }
	cat "$tmp/round.txt" >>"$tmp/echo.txt"
done
grep BlockingWaitEcho "$tmp/echo.txt"
"$benchstat" -filter '.unit:(ns/op OR cpu-ns/op OR ns/event)' -col '/impl@(raw epoll syscall unix)' "$tmp/go.txt" >"$tmp/stat-floor.txt"
"$benchstat" -filter '.unit:(ns/op OR cpu-ns/op OR ns/event)' -col '/impl@(epoll raw syscall unix)' "$tmp/go.txt" >"$tmp/stat-epoll.txt"
"$benchstat" -format csv -filter '.unit:(ns/op OR cpu-ns/op OR ns/event)' -col '/impl@(epoll raw syscall unix)' "$tmp/go.txt" >"$tmp/stat-epoll.csv" 2>/dev/null
cat "$tmp/stat-floor.txt"

# start_server NAME: starts $tmp/NAME on a free loopback port and sets addr
# and pid once it has printed its address; under "${wrap[@]}" if set, when
# pid is the wrapper's.
wrap=()
start_server() {
	"${wrap[@]}" "$tmp/$1" -addr 127.0.0.1:0 >"$tmp/$1.out" 2>"$tmp/$1.err" &
	pid=$!
	pids+=("$pid")
	addr=
	for _ in $(seq 100); do
		addr=$(sed -n 's/^listening on //p' "$tmp/$1.out" 2>/dev/null || true)
		[ -n "$addr" ] && return
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/$1.err" >&2
	die "$1 did not print its address"
}

stop_server() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# settled_rss PID: the highest VmRSS of PID, read every 0.2 s until it has
# not grown for 1 s, or for at most 15 s: a server may still be reading
# and answering when its clients say they are ready.
settled_rss() {
	local top cur still=0
	top=$(rss_kb "$1")
	for _ in $(seq 75); do
		sleep 0.2
		cur=$(rss_kb "$1" 2>/dev/null) || break # gone: the caller checks
		if [ "${cur:-0}" -gt "$top" ]; then
			top=$cur still=0
		elif ((++still >= 5)); then
			break
		fi
	done
	echo "$top"
}

# us converts a wrk latency (123.45us, 1.20ms, 2.00s) to microseconds.
us() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) f = 1; else if (v ~ /ms$/) f = 1000; else if (v ~ /m$/) f = 60e6; else if (v ~ /s$/) f = 1e6; else exit 1
		sub(/[a-z]+$/, "", v); print v * f }' || die "wrk latency '$1' not understood"
}

step "servers speak the same protocol, byte for byte"
for s in "${servers[@]}" gofloor gofloor-pkg gofloor-strict; do
	start_server "$s"
	# The floors speak only the benchmark's keep-alive GETs; the other Go
	# servers share evserver's parser and must agree on refusals too.
	want=$tmp/evserver.resp
	if [ "$s" = cfloor ] || [[ $s == gofloor* ]]; then
		"$tmp/idleconns" -addr "$addr" -dump-get >"$tmp/$s.resp"
		want=$tmp/evserver.get.resp
	else
		"$tmp/idleconns" -addr "$addr" -dump >"$tmp/$s.resp"
		[ "$s" != evserver ] || "$tmp/idleconns" -addr "$addr" -dump-get >"$tmp/evserver.get.resp"
	fi
	stop_server
	diff "$want" "$tmp/$s.resp" || die "evserver and $s answer differently"
done
head -6 "$tmp/evserver.resp"

# measure KIND SERVER CONNS ROUND: one wrk run against a fresh SERVER, and
# a line of its figures in server.txt.
measure() {
	local kind=$1 s=$2 conns=$3 r=$4
	start_server "$s"
	if ! wrk -t2 -c"$conns" -d"$wrk_duration" --latency "http://$addr/" >"$tmp/wrk.txt" 2>&1; then
		# Seen once at 10,000 connections on a loaded machine:
		# a refused connect. Once more on a fresh server, then fail.
		cat "$tmp/wrk.txt" "$tmp/$s.err"
		stop_server
		sleep 2
		start_server "$s"
		wrk -t2 -c"$conns" -d"$wrk_duration" --latency "http://$addr/" >"$tmp/wrk.txt" 2>&1 ||
			{ cat "$tmp/wrk.txt" "$tmp/$s.err"; die "wrk failed twice against $s at $conns connections"; }
	fi
	kill -0 "$pid" 2>/dev/null || die "$s died under wrk"
	# The server's CPU time (user + system, in clock ticks) per request is
	# steadier than req/s while other work shares the machine.
	local user_ticks sys_ticks ctxsw requests rps errors non2xx p50 p99
	read -r user_ticks sys_ticks < <(awk '{print $14, $15}' "/proc/$pid/stat")
	# Every time a thread of the server went to sleep or was preempted,
	# over its whole life (start-up adds a few).
	ctxsw=$(cat /proc/"$pid"/task/*/status | awk '/^(non)?voluntary_ctxt_switches:/ {n += $2} END {print n}')
	stop_server
	requests=$(awk '/ requests in / {print $1}' "$tmp/wrk.txt")
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.txt")
	[ -n "$rps" ] || { cat "$tmp/wrk.txt"; die "no Requests/sec from wrk"; }
	errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$tmp/wrk.txt")
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$tmp/wrk.txt")
	p50=$(awk '$1 == "50%" {print $2}' "$tmp/wrk.txt")
	p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.txt")
	echo "$kind server=$s conns=$conns round=$r rps=$rps errors=${errors:-0} non2xx=${non2xx:-0}" \
		"requests=$requests cpu_ticks=$((user_ticks + sys_ticks)) user_ticks=$user_ticks sys_ticks=$sys_ticks" \
		"clk_tck=$(getconf CLK_TCK) ctxsw=$ctxsw p50_us=$(us "$p50") p99_us=$(us "$p99") load1=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$tmp/server.txt"
}

# A multiple of ${#servers[@]} rounds puts each server in each place of the
# order equally often.
step "wrk: $wrk_rounds rounds of $wrk_duration at 100, 1000 and $idle_conns connections; load $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$tmp/server.txt"
for ((r = 1; r <= wrk_rounds; r++)); do
	for conns in 100 1000 "$idle_conns"; do
		k=$((r % ${#servers[@]}))
		order=("${servers[@]:k}" "${servers[@]:0:k}")
		for s in "${order[@]}"; do
			measure wrk "$s" "$conns" "$r"
		done
	done
done

# The same measurement of the ladder's rungs; a multiple of ${#ladder[@]}
# rounds puts each in each place of the order equally often.
step "the ladder from the C floor to evserver: $ladder_rounds rounds of $wrk_duration at 100 connections; load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ladder_rounds; r++)); do
	k=$((r % ${#ladder[@]}))
	for s in "${ladder[@]:k}" "${ladder[@]:0:k}"; do
		measure ladder "$s" 100 "$r"
	done
done

# perf counts the system calls of the server and all its threads from its
# start to its exit; the few of starting and stopping are noise against
# SYSCALL_REQUESTS requests.
step "system calls per request: $syscall_requests requests over 100 connections, one at a time on each"
events=raw_syscalls:sys_enter
for sc in read write writev sendto epoll_wait epoll_pwait epoll_pwait2 epoll_ctl futex nanosleep sched_yield; do
	events+=,syscalls:sys_enter_$sc
done
for s in "${servers[@]}"; do
	wrap=(perf stat "-x," -o "$tmp/perf-$s.txt" -e "$events" --)
	start_server "$s"
	wrap=()
	"$tmp/idleconns" -addr "$addr" -n 100 -requests "$syscall_requests" >/dev/null || die "idleconns -requests failed against $s"
	server_pid=$(pgrep -P "$pid")
	kill "$server_pid"
	wait "$pid" || true
	counts=$(awk -F, '$3 ~ /sys_enter/ { name = $3; sub(/.*sys_enter_?/, "", name); printf " %s=%s", name == "" ? "all" : name, $1 }' "$tmp/perf-$s.txt")
	echo "syscalls server=$s requests=$((syscall_requests + 100))$counts" | tee -a "$tmp/server.txt"
done

step "resident memory with $idle_conns idle keep-alive connections"
for s in "${servers[@]}"; do
	start_server "$s"
	sleep 0.5
	base=$(rss_kb "$pid")
	coproc idle { "$tmp/idleconns" -addr "$addr" -n "$idle_conns" -hold 2m; }
	idle_pid=$idle_PID
	read -r -t 120 line <&"${idle[0]}" || die "idleconns did not get ready"
	[ "$line" = "ready $idle_conns" ] || die "idleconns: $line"
	sleep 2 # let both sides settle
	loaded=$(rss_kb "$pid")
	kill -0 "$pid" 2>/dev/null || die "$s died holding connections"
	exec {idle[1]}>&- # idleconns closes its connections and exits
	wait "$idle_pid" || die "idleconns failed"
	stop_server
	echo "rss server=$s conns=$idle_conns base_kb=$base loaded_kb=$loaded" | tee -a "$tmp/server.txt"
done

# What one connection costs each server, by the client holding it: idle
# after one answer, half a request head that never ends, or requests
# pipelined and never read (which can make a server buffer megabytes per
# connection, hence a twentieth as many). Memory does not depend on the load,
# so one fresh server per server and kind.
memcost_conns=${MEMCOST_CONNS:-$((syscall_requests >= 100000 ? 1000 : 200))}
stall_conns=$(((memcost_conns + 19) / 20))
step "what one connection costs: $memcost_conns idle, $memcost_conns half heads, $stall_conns never reading"
for s in evserver gnetserver netserver; do
	for kind in idle halfhead nonreading; do
		n=$memcost_conns
		[ "$kind" != nonreading ] || n=$stall_conns
		start_server "$s"
		sleep 0.5
		base=$(rss_kb "$pid")
		coproc held { "$tmp/idleconns" -addr "$addr" -n "$n" -kind "$kind" -hold 1m 2>"$tmp/held.err"; }
		held_pid=$held_PID
		read -r -t 60 line <&"${held[0]}" || { cat "$tmp/held.err" >&2; die "idleconns -kind $kind did not get ready against $s"; }
		[[ $line == "ready $n"* ]] || die "idleconns -kind $kind: $line"
		loaded=$(settled_rss "$pid")
		kill -0 "$pid" 2>/dev/null || die "$s died holding $kind connections"
		exec {held[1]}>&- # idleconns closes its connections and exits
		wait "$held_pid" || { cat "$tmp/held.err" >&2; die "idleconns -kind $kind failed against $s"; }
		# Connections the server closed or answered meanwhile (a timeout)
		# are not in the figure: the report says so.
		dropped=$(sed -n 's/.* \([0-9]*\) closed or answered by the server$/\1/p' "$tmp/held.err")
		stop_server
		echo "memcost server=$s kind=$kind conns=$n base_kb=$base loaded_kb=$loaded${line#"ready $n"}${dropped:+ dropped=$dropped}" | tee -a "$tmp/server.txt"
	done
done

step "write $out"
{
	echo "date:         $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "commit:       $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (work tree differs)')"
	echo "cpus (nproc): $(nproc)"
	echo "cpu model:    $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
	echo "kernel:       $(uname -sr)"
	echo "go:           $(go version)"
	echo "load average: $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (1, 5, 15 min)"
	echo "Go benchmarks: $rounds rounds x -benchtime=$benchtime, implementations rotated each round"
	if [ -s "$tmp/nofile.txt" ]; then echo "100k idle fds: $(cat "$tmp/nofile.txt")"; fi
	echo "wrk:          $(wrk -v 2>&1 | head -1 | cut -c1-60); -t2, $wrk_duration per run, $wrk_rounds rounds"
} >"$tmp/machine.txt"
"$tmp/benchreport" -go "$tmp/go.txt" -wake "$tmp/wake.txt" -echo "$tmp/echo.txt" -benchstat-floor "$tmp/stat-floor.txt" -benchstat-epoll "$tmp/stat-epoll.txt" -benchstat-epoll-csv "$tmp/stat-epoll.csv" \
	-server "$tmp/server.txt" -machine "$tmp/machine.txt" -command "scripts/bench.sh" -o "$out"
[ -z "${BENCH_KEEP:-}" ] || { mkdir -p "$BENCH_KEEP" && cp "$tmp"/*.txt "$tmp"/*.csv "$BENCH_KEEP/"; }
step "done: $out written"
