#!/usr/bin/env bash
# Proves the Dockerfile on a fresh Debian machine: installs Docker's engine
# (docker.io) and QEMU, starts dockerd, enables binfmt_misc, makes local base
# images when the registry cannot be reached, then builds the Dockerfile's
# test target for linux/amd64 and linux/arm64 (the latter under QEMU). Also
# checks that a failing test fails the build. Prints one line per step and
# exits non-zero if any fails. Idempotent. See DEVELOPERS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive DOCKER_BUILDKIT=1 PATH="$PATH:/usr/local/go/bin"
# The engine's own client: /usr/local/bin/docker may be a client without BuildKit.
DOCKER=/usr/bin/docker
PLATFORMS="linux/amd64 linux/arm64"
start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step() { printf '%-4s %-22s %s\n' "$1" "$2" "$3"; }
die() { step FAIL "$1" "$2"; [ -z "${3:-}" ] || tail -n "${4:-40}" "$3" | sed 's/^/    /'; echo "docker-test: FAIL ($((SECONDS - start))s)"; exit 1; }

# 1. Packages. Keep the package's service from starting with default flags
# (it wants iptables); dockerd is started below with the flags it needs here.
pkgs="docker.io qemu-user-static binfmt-support ca-certificates"
missing=$(for p in $pkgs; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
	t0=$SECONDS
	nopolicy=
	[ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; nopolicy=1; }
	{ apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } >"$tmp/apt.log" 2>&1 || {
		[ -z "$nopolicy" ] || rm -f /usr/sbin/policy-rc.d
		die packages "apt-get install $missing failed" "$tmp/apt.log"
	}
	[ -z "$nopolicy" ] || rm -f /usr/sbin/policy-rc.d
	step ok packages "installed $(echo $missing) ($((SECONDS - t0))s)"
else
	step ok packages "already installed"
fi

# 2. dockerd, in the background, outliving this script. --iptables=false:
# there is no NAT here, so builds use the host's network (--network host).
if ! $DOCKER info >/dev/null 2>&1; then
	setsid nohup /usr/sbin/dockerd --iptables=false >/var/log/dockerd-epoll.log 2>&1 </dev/null &
	for _ in $(seq 120); do $DOCKER info >/dev/null 2>&1 && break; sleep 0.5; done
	$DOCKER info >/dev/null 2>&1 || die dockerd "did not come up" /var/log/dockerd-epoll.log
	step ok dockerd "started (log: /var/log/dockerd-epoll.log)"
else
	step ok dockerd "already running"
fi

# 3. binfmt_misc, so that the kernel hands arm64 binaries to qemu-aarch64.
# Debian registers it with the F flag: the interpreter is opened now, so it
# also works inside the build's containers.
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || die binfmt "qemu-aarch64 is not enabled"
grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 || die binfmt "qemu-aarch64 is registered without the F flag"
step ok binfmt "qemu-aarch64 enabled"

# 4. Base images: the Dockerfile's defaults if the registry answers, or local
# ones: the machine's Go tree plus a static busybox for the build stage, and
# a static busybox of each target platform to run the tests in.
build_args=()
if timeout 60 $DOCKER pull -q busybox:1.37 >"$tmp/pull.log" 2>&1; then
	step ok images "the registry is reachable: using the Dockerfile's defaults"
else
	t0=$SECONDS
	# rootfs DIR ARCH: a root with Debian's static busybox for ARCH and its
	# applets linked. The package is downloaded, not installed, with a
	# private apt state, leaving the machine's packages and dpkg
	# architectures alone.
	rootfs() {
		local dir=$1 arch=$2 a="$tmp/apt-$2"
		mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root" "$a/lists/partial" "$a/cache/archives/partial" "$a/deb"
		chmod 1777 "$dir/tmp"
		if [ ! -x "$a/busybox" ]; then
			local opts=(-o "APT::Architecture=$arch" -o "APT::Architectures=$arch" -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache")
			{ apt-get "${opts[@]}" update -q && (cd "$a/deb" && apt-get "${opts[@]}" download -q busybox-static); } >"$a/log" 2>&1 ||
				die images "could not download busybox-static for $arch" "$a/log"
			dpkg-deb -x "$a"/deb/busybox-static_*.deb "$a/x"
			cp "$a/x/bin/busybox" "$a/busybox"
		fi
		cp "$a/busybox" "$dir/bin/busybox"
		# binfmt_misc (step 3) runs the arm64 busybox too.
		for applet in $("$a/busybox" --list); do
			[ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
		done
		printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
		printf 'root:x:0:\n' >"$dir/etc/group"
	}
	# load_image TAG ARCH DIR: DIR as a one-layer linux/ARCH image. docker
	# import would label it with the daemon's own arch (its --platform needs
	# an experimental daemon), and BuildKit rightly refuses a FROM image of
	# the wrong platform, so write the docker-archive by hand.
	load_image() {
		local tag=$1 arch=$2 dir=$3 img="$tmp/img-$2" diff config
		mkdir -p "$img"
		tar -C "$dir" -cf "$img/layer.tar" .
		diff=$(sha256sum "$img/layer.tar" | cut -d' ' -f1)
		printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
			"$arch" "$diff" >"$img/config.json"
		config=$(sha256sum "$img/config.json" | cut -d' ' -f1)
		mv "$img/config.json" "$img/$config.json"
		printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$config" "$tag" >"$img/manifest.json"
		tar -C "$img" -cf - manifest.json "$config.json" layer.tar | $DOCKER load >"$tmp/load.log" 2>&1 ||
			die images "docker load of $tag failed" "$tmp/load.log"
	}
	goversion=$(go env GOVERSION)
	go_image="epoll-local/go:$goversion"
	if ! $DOCKER image inspect "$go_image" >/dev/null 2>&1; then
		rootfs "$tmp/go-root" amd64
		mkdir -p "$tmp/go-root/etc/ssl/certs" "$tmp/go-root/go"
		cp /etc/ssl/certs/ca-certificates.crt "$tmp/go-root/etc/ssl/certs/"
		tar -C "$tmp/go-root" -cf - . -C / usr/local/go |
			$DOCKER import --platform linux/amd64 \
				-c 'ENV PATH=/usr/local/go/bin:/go/bin:/bin HOME=/root GOPATH=/go' \
				-c 'WORKDIR /go' -c 'CMD ["sh"]' - "$go_image" >"$tmp/import.log" 2>&1 ||
			die images "docker import of $go_image failed" "$tmp/import.log"
	fi
	build_args+=(--build-arg "GO_IMAGE=$go_image")
	for p in $PLATFORMS; do
		arch=${p#linux/}
		img="epoll-local/busybox:$arch"
		if ! $DOCKER image inspect "$img" >/dev/null 2>&1; then
			rootfs "$tmp/bb-$arch" "$arch"
			load_image "$img" "$arch" "$tmp/bb-$arch"
		fi
		have=$($DOCKER image inspect -f '{{.Os}}/{{.Architecture}}' "$img")
		[ "$have" = "$p" ] || die images "$img is $have, not $p"
	done
	step ok images "local $go_image and epoll-local/busybox:{${PLATFORMS//linux\//}} ($((SECONDS - t0))s; the registry is unreachable)"
fi
run_image_arg() { # the RUN_IMAGE build arg for platform $1, if local images are used
	[ ${#build_args[@]} -eq 0 ] || echo "--build-arg=RUN_IMAGE=epoll-local/busybox:${1#linux/}"
}

# 5. The test target for each platform. --no-cache: run the tests every time.
failed=0
for p in $PLATFORMS; do
	t0=$SECONDS
	log="$tmp/build-${p#linux/}.log"
	if $DOCKER build --no-cache --progress=plain --network host --platform "$p" --target test \
		"${build_args[@]}" $(run_image_arg "$p") . >"$log" 2>&1; then
		ran=$(grep -o 'running the tests on [a-z0-9_]*' "$log" | tail -1 || true)
		step PASS "$p" "${ran:-tests ran}, root and fuzz/ passed ($((SECONDS - t0))s)"
	else
		step FAIL "$p" "docker build failed ($((SECONDS - t0))s):"
		# The test's own failure lines if there are any, else the end.
		{ grep -E -- '--- FAIL|_test\.go:[0-9]+:|panic:|ERROR' "$log" || tail -n 25 "$log"; } | head -40 | sed 's/^/    /' || true
		failed=1
	fi
done

# 6. The build must fail when a test fails: add one failing test to a copy
# of the context.
t0=$SECONDS
mkdir "$tmp/ctx" && tar --exclude=./.git -cf - . | tar -C "$tmp/ctx" -xf -
printf 'package epoll\n\nimport "testing"\n\nfunc TestDockerTestMustFail(t *testing.T) { t.Fatal("deliberate failure") }\n' >"$tmp/ctx/zz_must_fail_test.go"
if $DOCKER build --no-cache --progress=plain --network host --platform linux/amd64 --target test \
	"${build_args[@]}" $(run_image_arg linux/amd64) "$tmp/ctx" >"$tmp/fail.log" 2>&1; then
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
