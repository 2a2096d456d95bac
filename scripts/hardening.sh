#!/usr/bin/env bash
# The hardening tests at full size: the runs behind RELIABILITY.md's figures.
# Their bounded versions already run in every `go test`, with -race and
# under qemu-user; this is the long run.
#
#   scripts/hardening.sh              # natively: 2-3 minutes on 2 cores
#   scripts/hardening.sh arm64 s390x  # natively, then under qemu-user per GOARCH
#
# Prints each run's figures and verdicts, keeps the full logs in $OUT (a
# temporary directory unless set), and exits non-zero if any run fails.
# Run it as root: the 100,000-fd test raises RLIMIT_NOFILE.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"

declare -A QEMU=() # GOARCH -> qemu-user binary, from internal/arch
while read -r arch qemu; do QEMU[$arch]=$qemu; done < <(go run ./internal/arch/archtable -f '{{.GOARCH}} {{.Qemu}}')
for arch in "$@"; do
	[ -n "${QEMU[$arch]:-}" ] || { echo "no qemu-user for GOARCH=$arch" >&2; exit 2; }
done
if [ $# -gt 0 ] && ! command -v qemu-aarch64-static >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends qemu-user-static >/dev/null
fi

failed=0
run() { # run NAME COMMAND...: run a test binary, print its figures
	local name=$1 log="$out/hardening-$1.log" rc=0 start=$SECONDS
	shift
	echo "==> $name: $*"
	"$@" -test.run '^TestHardening' -hardening.long -test.count=1 -test.v -test.timeout 90m >"$log" 2>&1 || rc=$?
	grep -E '^\s+hardening_.*:[0-9]+: |^(--- |ok|FAIL|PASS)' "$log" || true
	echo "==> $name: exit $rc after $((SECONDS - start)) s; full log: $log"
	[ "$rc" -eq 0 ] || failed=1
}

go test -c -o "$out/epoll.test" .
run "$(go env GOARCH)" "$out/epoll.test"
for arch in "$@"; do
	CGO_ENABLED=0 GOARCH=$arch go test -c -o "$out/epoll.$arch.test" .
	run "$arch" "${QEMU[$arch]}" "$out/epoll.$arch.test"
done
exit "$failed"
