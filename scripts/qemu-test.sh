#!/usr/bin/env bash
# Runs the tests of the root package and of fuzz/ on every Linux architecture
# Go supports: natively for amd64 and 386, under qemu-user-static for the
# rest. Also checks that every other platform in `go tool dist list` is
# refused at compile time with the package's message (0_unsupported.go).
#
#   scripts/qemu-test.sh             # the whole matrix
#   scripts/qemu-test.sh arm s390x   # some arches
#
# Prints one line per platform check and per arch and package, and exits
# non-zero if any fails. Installs qemu-user-static if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin" CGO_ENABLED=0

# GOARCH and the qemu-user binary that runs it ("" runs it natively: this
# kernel runs 386 binaries, and qemu-i386 7.2 crashes every Go binary), from
# the one table of architectures, internal/arch.
declare -A QEMU=()
ALL=""
while read -r arch qemu; do
	QEMU[$arch]=${qemu#-} ALL+=" $arch"
done < <(go run ./internal/arch/archtable -f '{{.GOARCH}} {{or .Qemu "-"}}')
[ -n "$ALL" ] || { echo "qemu-test: could not read internal/arch's table" >&2; exit 1; }
arches=${*:-$ALL}

if ! command -v qemu-aarch64-static >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends qemu-user-static >/dev/null
fi

failed=0
start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
logs=${TMPDIR:-/tmp}/qemu-test-logs # the logs of failed runs are kept here
rm -rf "$logs"
result() { # result PASS|FAIL WHAT DETAIL
	printf '%-4s %-28s %s\n' "$1" "$2" "$3"
	[ "$1" = PASS ] || failed=1
}

# Platforms: internal/arch's TestPlatforms asks go/build, for every platform
# in `go tool dist list`, that 0_unsupported.go is built exactly where the
# table has no arch; two real builds here check that its message comes first.
check_platforms() {
	local p msg bad="" out
	if ! out=$(go test -count=1 -run '^TestPlatforms$' -v ./internal/arch 2>&1); then
		bad+=" $(grep -E 'arch_test.go:[0-9]+:' <<<"$out" | head -n 5 | tr -s ' \n' ' ')"
	fi
	# Two real builds (each compiles the standard library for a new
	# platform): another OS, and android, which has the linux build tag.
	for p in darwin/arm64 android/arm64; do
		msg=$(GOOS=${p%/*} GOARCH=${p#*/} go build -o /dev/null . 2>&1 | sed -n 2p) || true
		[[ "$msg" == *"epoll: unsupported platform"* ]] || bad+=" $p(build said: ${msg:-nothing})"
	done
	if [ -z "$bad" ]; then
		result PASS platforms "$(grep -oE '[0-9]+ linux arches build; [0-9]+ other platforms are refused' <<<"$out"), with \"epoll: unsupported platform\""
	else
		result FAIL platforms "$bad"
	fi
}
check_platforms

# Packages: the root package, fuzz/ (the corpus) and the inspector, whose
# test checks its quote in doc/layout/quotes.md for the arch it runs on. Each is built from
# its own directory.
pkgs=.
for pkg in fuzz cmd/epollinspect; do
	if compgen -G "$pkg/*_test.go" >/dev/null; then pkgs+=" $pkg"; fi
done

for arch in $arches; do
	[ -n "${QEMU[$arch]+x}" ] || { result FAIL "linux/$arch" "unknown arch"; continue; }
	q=${QEMU[$arch]}
	run=() how=native
	[ -z "$q" ] || { run=("$q"); how="$q"; }
	for pkg in $pkgs; do
		name="linux/$arch $pkg"
		base=$(basename "$(cd "$pkg" && pwd)")
		bin="$tmp/$arch.$base.test" log="$tmp/$arch.$base.log"
		t0=$SECONDS
		if ! (cd "$pkg" && GOARCH=$arch go vet . && GOARCH=$arch go test -c -o "$bin" .) >"$log" 2>&1; then
			result FAIL "$name" "build or vet failed:"; head -n 20 "$log" | sed 's/^/    /'; continue
		fi
		# Natively the kernel has epoll_pwait2 (5.11+); qemu-user 7.2 lacks
		# it, so those runs exercise the epoll_pwait fallback.
		env=()
		[ -n "$q" ] || env=(EPOLL_TEST_REQUIRE_PWAIT2=1)
		# GNU time, where installed, gives the peak RSS (qemu's own included).
		rss=() && [ ! -x /usr/bin/time ] || rss=(/usr/bin/time -f %M -o "$log.rss")
		if (cd "$pkg" && env "${env[@]}" timeout 600 ${rss[@]+"${rss[@]}"} "${run[@]}" "$bin" -test.v -test.count=1 -test.timeout=9m) >"$log" 2>&1; then
			pw=""
			[ "$pkg" != . ] || pw=$(grep -q 'epoll_pwait2 unavailable' "$log" && echo ", epoll_pwait2 missing: fallback used" || echo ", epoll_pwait2 used")
			# The busy-poll tests log when the ioctls are missing (qemu-user: ENOSYS).
			[ "$pkg" != . ] || pw+=$(grep -q 'busy polling not supported here' "$log" && echo ", busy poll: not supported" || echo ", busy poll: set and read back")
			[ ! -s "$log.rss" ] || pw+=", peak RSS $(awk '{ printf "%.1f", $1 / 1024 }' "$log.rss") MiB"
			result PASS "$name" "$how, $(grep -c '^--- PASS' "$log") tests, $((SECONDS - t0))s$pw"
		else
			fails=$(grep -oE '^--- FAIL: [^ ]+' "$log" | cut -d' ' -f3 | awk 'NR <= 5 { printf "%s ", $0 } END { if (NR > 5) printf "and %d more", NR - 5 }' || true)
			mkdir -p "$logs" && cp "$log" "$logs/"
			result FAIL "$name" "$how, $((SECONDS - t0))s: ${fails:-no test failed; it crashed or timed out}"
			{ grep -E '_test\.go:[0-9]+:|^(panic|fatal)' "$log" || tail -n 15 "$log"; } | head -15 | sed 's/^/    /' || true
			echo "    full log: $logs/$(basename "$log")"
		fi
	done
done

total=$((SECONDS - start))
if [ "$failed" = 0 ]; then
	echo "qemu-test: PASS ($(wc -w <<<"$arches") arches, ${total}s)"
else
	echo "qemu-test: FAIL (${total}s)"
	exit 1
fi
