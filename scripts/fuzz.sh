#!/usr/bin/env bash
# Fuzz every target in fuzz/ and internal/http1/ for a bounded number of
# inputs on this machine, then replay fuzz/'s seed corpus, and check the
# inspector's quote in doc/layout/quotes.md, on other architectures under
# qemu-user.
#
#   scripts/fuzz.sh            # 300,000 inputs per target, then replay on arm64
#   FUZZTIME=20000x REPLAY_ARCHES="arm64 s390x" scripts/fuzz.sh
#   FUZZTIME=10m scripts/fuzz.sh   # a long run by the clock
#
# The bound is a count, not a duration: the same work on any machine, and
# Go 1.26's fuzzing coordinator can fail a target with a bare "context
# deadline exceeded" when a duration runs out while a worker is busy
# (go.dev/issue/75804, fixed in Go 1.27; seen here on a busy machine). With
# the defaults about 2 minutes on a 2-core machine (7,000 to 20,000 inputs a
# second per target), plus ~20s to build and replay. A failure leaves the
# minimized input in <package>/testdata/fuzz/<target>/: commit it with the
# fix, so the corpus replays it everywhere from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

fuzztime=${FUZZTIME:-300000x}
arches=${REPLAY_ARCHES-arm64}

qemu_for() { # GOARCH -> qemu-user binary name, from internal/arch
	local q
	q=$(go run ./internal/arch/archtable -f '{{.Qemu}}' "$1")
	[ -n "$q" ] || { echo "fuzz.sh: GOARCH=$1 runs natively here: replay it with go test" >&2; return 1; }
	echo "$q"
}

if [ -n "$arches" ]; then
	for arch in $arches; do
		qemu=$(qemu_for "$arch")
		if ! command -v "$qemu" >/dev/null; then
			apt-get update -q
			apt-get install -y -q --no-install-recommends qemu-user-static
			break
		fi
	done
fi

# fuzz/ fuzzes the package's event layout; internal/http1 evserver's request parser
# against net/http's.
for pkg in ./fuzz ./internal/http1; do
	for t in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		echo "==> $pkg $t, -fuzztime $fuzztime, on $(go env GOARCH)"
		go test -run='^$' -fuzz="^$t\$" -fuzztime="$fuzztime" "$pkg"
	done
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for arch in $arches; do
	qemu=$(qemu_for "$arch")
	echo "==> replay the corpus and the inspector's quote on $arch under $qemu"
	CGO_ENABLED=0 GOARCH=$arch go test -c -o "$tmp/fuzz.$arch.test" ./fuzz
	CGO_ENABLED=0 GOARCH=$arch go test -c -o "$tmp/inspect.$arch.test" ./cmd/epollinspect
	# Test binaries read testdata/ and ../../doc/layout/quotes.md relative to their package.
	(cd fuzz && "$qemu" "$tmp/fuzz.$arch.test" -test.count=1)
	(cd cmd/epollinspect && "$qemu" "$tmp/inspect.$arch.test" -test.count=1)
done
echo "fuzz.sh: all passed"
