#!/usr/bin/env bash
# Proves DEVELOPERS.md's Docker command on a fresh Debian machine:
#
#   docker buildx build --platform linux/amd64,linux/arm64 --target test .
#
# run literally, on a private Docker engine that leaves any system Docker
# alone: Debian trixie's docker.io 26.1.5, docker-cli and docker-buildx
# 0.13.1 (with the host suite's runc, which its glibc runs), extracted, not
# installed, with a private apt state, and started with its own data root,
# exec root, pidfile, socket and bridge, and the containerd image store, with
# which the default docker driver builds both platforms. The arm64 half runs
# under qemu-user through binfmt_misc. Then the same command on a copy of the
# source with one failing test must fail. Prints one line per step and exits
# non-zero if any fails. Idempotent; it stops the engine it started.
#
# Where Docker Hub cannot be reached, the engine gets stand-ins under the
# Dockerfile's default image names (in that engine only): busybox as one
# image index of linux/amd64 and linux/arm64 (Debian's busybox-static), and
# a Go image made of this machine's Go tree plus the module cache go.mod
# needs, since build steps cannot reach the module proxy.
#
# DOCKER_TEST_STATE (default /var/lib/epoll-docker) holds the engine, its
# data and images; DOCKER_TEST_BRIDGE (epoll-br0) and DOCKER_TEST_CIDR
# (172.31.213.1/24) name its bridge.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PATH="$PATH:/usr/local/go/bin"
state=${DOCKER_TEST_STATE:-/var/lib/epoll-docker}
bridge=${DOCKER_TEST_BRIDGE:-epoll-br0}
cidr=${DOCKER_TEST_CIDR:-172.31.213.1/24}
run=/run/epoll-docker # exec root, socket, pidfile
suite=trixie          # docker.io 26.1.5, docker-buildx 0.13.1
start=$SECONDS
tmp=$(mktemp -d)
started=
cleanup() {
	if [ -n "$started" ] && [ -s "$run/dockerd.pid" ]; then
		kill "$(cat "$run/dockerd.pid")" 2>/dev/null || true
		for _ in $(seq 40); do [ -e "$run/dockerd.pid" ] || break; sleep 0.5; done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
step() { printf '%-4s %-22s %s\n' "$1" "$2" "$3"; }
die() { step FAIL "$1" "$2"; [ -z "${3:-}" ] || tail -n "${4:-40}" "$3" | sed 's/^/    /'; echo "docker-test: FAIL ($((SECONDS - start))s)"; exit 1; }

hostarch=$(dpkg --print-architecture)
[ "$hostarch" = amd64 ] || die engine "runs on amd64 (this is $hostarch): the build's second platform is arm64 under qemu-user"

# apt_private SUITE ARCH DIR: prints apt options for a private state in DIR
# (only SUITE's main, only ARCH), after an update; the mirror is the one the
# host's Debian main comes from.
apt_private() {
	local suite=$1 arch=$2 dir=$3 uri codename
	codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
	# shellcheck disable=SC2016 # apt's format, not the shell's
	uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
		awk -v c="$codename" '$2 == c && $3 == "main" { print $1; exit }')
	[ -n "$uri" ] || uri=http://deb.debian.org/debian/
	mkdir -p "$dir/lists/partial" "$dir/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" >"$dir/sources.list"
	local opts=(-q -o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir" -o "Dir::Cache::archives=$dir/archives"
		-o Dir::State::status=/dev/null -o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
		-o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false -o APT::Sandbox::User=root)
	apt-get "${opts[@]}" update >>"$dir/log" 2>&1 || return 1
	printf '%s\n' "${opts[@]}"
}

# 1. The engine's files, extracted into $state/engine once.
engine=$state/engine
if [ ! -x "$engine/usr/sbin/dockerd" ] || [ ! -x "$engine/usr/libexec/docker/cli-plugins/docker-buildx" ]; then
	t0=$SECONDS
	mkdir -p "$state"
	rm -rf "$state/engine.new" "$state/apt-$suite"
	mapfile -t opts < <(apt_private "$suite" amd64 "$state/apt-$suite") || die engine "apt-get update of $suite failed" "$state/apt-$suite/log"
	host_suite=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
	mapfile -t hopts < <(apt_private "$host_suite" amd64 "$state/apt-$host_suite") || die engine "apt-get update of $host_suite failed" "$state/apt-$host_suite/log"
	mkdir -p "$tmp/debs"
	(cd "$tmp/debs" && apt-get "${opts[@]}" download docker.io docker-cli docker-buildx containerd tini &&
		apt-get "${hopts[@]}" download runc) >"$tmp/download.log" 2>&1 || die engine "downloading the debs failed" "$tmp/download.log"
	for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$state/engine.new"; done
	# The host suite's runc: trixie's needs a newer glibc than bookworm's.
	rm -rf "$engine" && mv "$state/engine.new" "$engine"
	step ok engine "extracted $(cd "$tmp/debs" && ls | sed 's/_amd64\.deb//; s/_/ /' | paste -sd, | sed 's/,/, /g') ($((SECONDS - t0))s)"
else
	step ok engine "already extracted in $engine"
fi
export PATH="$engine/usr/bin:$engine/usr/sbin:$PATH" DOCKER_HOST="unix://$run/docker.sock" DOCKER_CONFIG=$state/cli BUILDKIT_PROGRESS=plain
mkdir -p "$DOCKER_CONFIG/cli-plugins"
ln -sfn "$engine/usr/libexec/docker/cli-plugins/docker-buildx" "$DOCKER_CONFIG/cli-plugins/docker-buildx"
docker --version | grep -q '^Docker version 26\.' || die engine "docker is $(command -v docker): $(docker --version)"

# 2. binfmt_misc hands arm64 binaries to qemu-aarch64-static; the F flag
# opens the interpreter now, so that it works inside the build's containers.
missing=()
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
command -v ip >/dev/null || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
	{ apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$tmp/apt.log" 2>&1 ||
		die binfmt "apt-get install ${missing[*]} failed" "$tmp/apt.log"
fi
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
	conf=/usr/lib/binfmt.d/qemu-aarch64.conf
	[ -s "$conf" ] || die binfmt "no $conf from qemu-user-static"
	cat "$conf" >/proc/sys/fs/binfmt_misc/register || die binfmt "registering $conf failed"
fi
grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 || die binfmt "qemu-aarch64 is not enabled"
grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 || die binfmt "qemu-aarch64 is registered without the F flag"
step ok binfmt "qemu-aarch64 enabled, flags $(sed -n 's/^flags: //p' /proc/sys/fs/binfmt_misc/qemu-aarch64)"

# 3. The engine, on its own bridge: without one, build steps fail with
# "network bridge not found". No iptables rules: nothing here needs NAT.
if ! docker info >/dev/null 2>&1; then
	if ! ip link show "$bridge" >/dev/null 2>&1; then
		ip link add "$bridge" type bridge && ip addr add "$cidr" dev "$bridge" || die engine "could not create bridge $bridge"
	fi
	ip link set "$bridge" up
	mkdir -p "$run" "$state/data"
	echo '{"features": {"containerd-snapshotter": true}}' >"$state/daemon.json"
	setsid dockerd --config-file "$state/daemon.json" --data-root "$state/data" --exec-root "$run" \
		--pidfile "$run/dockerd.pid" -H "$DOCKER_HOST" --bridge "$bridge" --iptables=false --ip6tables=false \
		>"$state/dockerd.log" 2>&1 </dev/null &
	started=1
	for _ in $(seq 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
	docker info >/dev/null 2>&1 || die dockerd "did not come up" "$state/dockerd.log"
	step ok dockerd "started: $(docker version -f 'engine {{.Server.Version}}, client {{.Client.Version}}'), buildx $(docker buildx version | cut -d' ' -f2), socket $run/docker.sock (log: $state/dockerd.log)"
else
	step ok dockerd "already running: $(docker version -f 'engine {{.Server.Version}}') on $run/docker.sock"
fi
docker info -f '{{.DriverStatus}}' | grep -q io.containerd.snapshotter || die dockerd "not using the containerd image store"

# 4. Base images: the Dockerfile's defaults from the registry if it answers,
# else stand-ins under their names. A key of the Go version and go.sum
# decides when the Go image is made again.
go_image=$(sed -n 's/^ARG GO_IMAGE=//p' Dockerfile)
run_image=$(sed -n 's/^ARG RUN_IMAGE=//p' Dockerfile)
[ -n "$go_image" ] && [ -n "$run_image" ] || die images "no ARG GO_IMAGE= or ARG RUN_IMAGE= default in the Dockerfile"
if timeout 30 docker pull -q "$run_image" >"$tmp/pull.log" 2>&1 && timeout 300 docker pull -q "$go_image" >>"$tmp/pull.log" 2>&1; then
	step ok images "the registry is reachable: $go_image and $run_image pulled"
else
	t0=$SECONDS
	busybox_of() { # busybox_of ARCH: the path of Debian's static busybox for ARCH
		local a=$state/busybox-$1
		if [ ! -x "$a/busybox" ]; then
			mapfile -t bopts < <(apt_private "$host_suite" "$1" "$a/apt") || die images "apt-get update for $1 failed" "$a/apt/log"
			mkdir -p "$a/deb"
			(cd "$a/deb" && apt-get "${bopts[@]}" download busybox-static) >"$a/log" 2>&1 || die images "downloading busybox-static for $1 failed" "$a/log"
			dpkg-deb -x "$a"/deb/busybox-static_*.deb "$a/x"
			cp "$(ls "$a/x/bin/busybox" "$a/x/usr/bin/busybox" 2>/dev/null | head -n 1)" "$a/busybox"
		fi
		echo "$a/busybox"
	}
	rootfs() { # rootfs DIR ARCH: busybox for ARCH, its applets linked, a root user
		mkdir -p "$1/bin" "$1/etc" "$1/tmp" "$1/root"
		chmod 1777 "$1/tmp"
		cp "$(busybox_of "$2")" "$1/bin/busybox"
		for applet in $("$(busybox_of amd64)" --list); do [ "$applet" = busybox ] || ln -sf busybox "$1/bin/$applet"; done
		printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd"
		printf 'root:x:0:\n' >"$1/etc/group"
	}
	host_suite=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
	# RUN_IMAGE: one OCI image index of both platforms, written by hand
	# and loaded whole (docker import makes one platform at a time).
	blob() { # blob FILE: moves FILE into the layout's blobs, prints "digest size"
		local d s
		d=$(sha256sum "$1" | cut -d' ' -f1) s=$(stat -c %s "$1")
		mv "$1" "$oci/blobs/sha256/$d"
		echo "sha256:$d $s"
	}
	oci=$tmp/oci manifests=
	mkdir -p "$oci/blobs/sha256"
	for arch in amd64 arm64; do
		rootfs "$tmp/root-$arch" "$arch"
		tar -C "$tmp/root-$arch" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$oci/layer" .
		read -r ld ls < <(blob "$oci/layer")
		printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' "$arch" "$ld" >"$oci/config"
		read -r cd cs < <(blob "$oci/config")
		printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
			"$cd" "$cs" "$ld" "$ls" >"$oci/manifest"
		read -r md ms < <(blob "$oci/manifest")
		manifests+="${manifests:+,}{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$md\",\"size\":$ms,\"platform\":{\"architecture\":\"$arch\",\"os\":\"linux\"}}"
	done
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' "$manifests" >"$oci/index"
	read -r md ms < <(blob "$oci/index")
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":%s,"annotations":{"io.containerd.image.name":"docker.io/library/%s","org.opencontainers.image.ref.name":"%s"}}]}' \
		"$md" "$ms" "$run_image" "${run_image##*:}" >"$oci/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
	tar -C "$oci" -cf - oci-layout index.json blobs | docker load >"$tmp/load.log" 2>&1 || die images "docker load of $run_image failed" "$tmp/load.log"
	for p in linux/amd64 linux/arm64; do
		have=$(docker run --rm --platform "$p" "$run_image" uname -m 2>&1) || die images "$run_image does not run for $p: $have"
	done
	# GO_IMAGE: this machine's Go and the module cache go.mod needs,
	# taken from this machine's cache where it has them. GOPROXY=off: a
	# missing module fails the build at once instead of timing out.
	goroot=$(go env GOROOT)
	key="$(go env GOVERSION) $(sha256sum go.sum | cut -c1-16)"
	if [ "$(docker image inspect -f '{{index .Config.Labels "epoll.key"}}' "$go_image" 2>/dev/null)" != "$key" ]; then
		rootfs "$tmp/go-root" amd64
		mkdir -p "$tmp/go-root/usr/local" "$tmp/go-root/go"
		GOMODCACHE=$tmp/go-root/go/pkg/mod GOFLAGS=-modcacherw GOPROXY="file://$(go env GOMODCACHE)/cache/download,$(go env GOPROXY)" \
			go mod download >"$tmp/mod.log" 2>&1 || die images "go mod download failed" "$tmp/mod.log"
		tar -C "$tmp/go-root" -cf - . -C "$(dirname "$goroot")" --transform "s,^$(basename "$goroot"),usr/local/go," "$(basename "$goroot")" |
			docker import --platform linux/amd64 -c "LABEL epoll.key=\"$key\"" \
				-c 'ENV PATH=/usr/local/go/bin:/go/bin:/bin HOME=/root GOPATH=/go GOPROXY=off' \
				-c 'WORKDIR /go' -c 'CMD ["sh"]' - "$go_image" >"$tmp/import.log" 2>&1 ||
			die images "docker import of $go_image failed" "$tmp/import.log"
	fi
	step ok images "registry unreachable: stand-ins $run_image (index of linux/amd64, linux/arm64) and $go_image ($key) ($((SECONDS - t0))s)"
fi

# 5. DEVELOPERS.md's command, literally. The build cache goes first, so that the
# tests run now rather than being found cached from an earlier run.
documented_cmd='docker buildx build --platform linux/amd64,linux/arm64 --target test .'
grep -qF "$documented_cmd" DEVELOPERS.md || die DEVELOPERS "DEVELOPERS.md no longer says: $documented_cmd"
docker builder prune -af >/dev/null
failed=0
t0=$SECONDS
if (eval "$documented_cmd") >"$tmp/build.log" 2>&1; then
	ran=$(grep -oE 'running the tests on [a-z0-9_]+' "$tmp/build.log" | sed 's/running the tests on //' | sort -u | paste -sd' ')
	passes=$(grep -c ' PASS$' "$tmp/build.log" || true)
	if [ "$ran" = "aarch64 x86_64" ] && [ "$passes" -ge 4 ]; then
		step PASS "$documented_cmd" "tests ran on $ran, root and fuzz/ passed on each ($((SECONDS - t0))s)"
	else
		step FAIL "$documented_cmd" "built, but the tests ran on '${ran}' with $passes PASS lines ($((SECONDS - t0))s)"
		failed=1
	fi
else
	step FAIL "$documented_cmd" "failed ($((SECONDS - t0))s):"
	{ grep -E -- '--- FAIL|_test\.go:[0-9]+:|panic:|ERROR' "$tmp/build.log" || tail -n 25 "$tmp/build.log"; } | head -40 | sed 's/^/    /' || true
	failed=1
fi

# 6. The same command must fail when a test fails: one failing test added to
# a copy of the source.
t0=$SECONDS
mkdir "$tmp/ctx" && tar --exclude=./.git -cf - . | tar -C "$tmp/ctx" -xf -
printf 'package epoll\n\nimport "testing"\n\nfunc TestDockerTestMustFail(t *testing.T) { t.Fatal("deliberate failure") }\n' >"$tmp/ctx/zz_must_fail_test.go"
if (cd "$tmp/ctx" && eval "$documented_cmd") >"$tmp/fail.log" 2>&1; then
	step FAIL "failing test" "the build passed with a failing test"
	failed=1
elif grep -q 'deliberate failure' "$tmp/fail.log"; then
	step PASS "failing test" "fails the build ($((SECONDS - t0))s)"
else
	step FAIL "failing test" "the build failed, but not in the test:"
	tail -n 25 "$tmp/fail.log" | sed 's/^/    /'
	failed=1
fi

if [ "$failed" = 0 ]; then
	echo "docker-test: PASS ($((SECONDS - start))s)"
else
	echo "docker-test: FAIL ($((SECONDS - start))s)"
	exit 1
fi
