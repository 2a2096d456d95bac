#!/usr/bin/env bash
# The evserver soak with faults (issue 19), on loopback only: builds
# cmd/evserver and its soak driver (cmd/evserver/internal/soak), then runs
# the driver, which starts the server as its own process with a lowered
# RLIMIT_NOFILE and storms it with every kind of bad client at once while
# well-behaved clients measure. It prints a table and exits non-zero on
# any failed check.
#   scripts/soak.sh          the long form: 10,000 churned connections, 1,000
#                            slowloris, 1,000 never-reading, 1,000 resetting
#                            and 1,000 malformed clients; about 2 minutes
#   scripts/soak.sh -short   the same kinds, fewer; under a minute (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/evserver" ./cmd/evserver
go build -o "$tmp/soak" ./cmd/evserver/internal/soak
# The driver needs fds for every client at once; Go raises its soft limit
# to the hard one, which must allow them.
[ "$(ulimit -Hn)" -ge 8192 ] || { echo "soak.sh: RLIMIT_NOFILE hard limit $(ulimit -Hn) is under 8192" >&2; exit 1; }
exec "$tmp/soak" -server "$tmp/evserver" "$@"
