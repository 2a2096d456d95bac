#!/usr/bin/env bash
# Run the package's tests on the real Linux kernel of other architectures.
#
# Under qemu-user the kernel answering an arm64 test is the host's, and qemu
# translates each struct epoll_event between layouts. Here each architecture
# boots its own Debian kernel under qemu-system-<arch>, with an initramfs
# holding the statically linked test binaries, Debian's static busybox as
# /bin and internal/kinit as /init, so the layouts and system call numbers
# meet the kernel they were written for.
#
# Usage: scripts/kernel-test.sh [TARGET...] [-- TEST-FLAGS...]
#   TARGET is a GOARCH (arm64, the default, arm, ppc64le, s390x, riscv64,
#   mips64le, mipsle, 386), which boots every Debian kernel it has, or
#   GOARCH@GEN for one of them, GEN being a suite or its Linux version:
#   bookworm or 6.1, trixie or 6.12 (arm64@6.12, s390x@bookworm). "all" is
#   every arch in internal/arch, including those with no Debian kernel, which
#   print a line saying so. KERNEL_TEST_SUITE=trixie (or 6.12) keeps only that
#   generation's kernels. TEST-FLAGS replace the default
#   "-test.v -test.count=1 -test.timeout=$KERNEL_TEST_GO_TIMEOUT".
#
# Prints one line per kernel booted and exits non-zero unless every test
# binary passed on every one. It installs what it lacks with apt-get (qemu,
# cpio) and caches each kernel under $KERNEL_TEST_CACHE (one directory per
# suite, arch and flavour, filled atomically, so that concurrent runs share
# it); set KERNEL_TEST_REFRESH=1 to fetch Debian's current kernel again.
# Tests see EPOLL_TEST_REQUIRE_PWAIT2=1 on kernels from 5.11, which have
# epoll_pwait2.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

cache=${KERNEL_TEST_CACHE:-/var/cache/epoll-kernels}
go_timeout=${KERNEL_TEST_GO_TIMEOUT:-5m}  # go test's own: panics with stacks
vm_timeout=${KERNEL_TEST_VM_TIMEOUT:-600} # seconds for boot and every binary
logs=${KERNEL_TEST_LOGS:-}                # if set, the VMs' full consoles go there
packages=${KERNEL_TEST_PKGS:-. ./fuzz ./cmd/epollinspect} # doc/layout/quotes.md's quotes too; those without test files are skipped
only_suite=${KERNEL_TEST_SUITE:-}         # bookworm, trixie, 6.1 or 6.12
read -ra qemu_extra <<<"${KERNEL_TEST_QEMU_ARGS:-}" # e.g. "-smp 1": later wins

log() { printf 'kernel-test: %s\n' "$*" >&2; }

# Debian suite <-> the Linux generation it ships.
suite_of() {
	case $1 in
	bookworm | 6.1) echo bookworm ;;
	trixie | 6.12) echo trixie ;;
	*) log "unknown kernel generation $1 (known: bookworm or 6.1, trixie or 6.12)"; return 1 ;;
	esac
}
linux_of() { case $1 in bookworm) echo 6.1 ;; trixie) echo 6.12 ;; esac }
[ -z "$only_suite" ] || only_suite=$(suite_of "$only_suite") || exit 2

command -v go >/dev/null || { log "needs Go (see go.mod) on PATH"; exit 1; }
# The arches, their Debian names, kernel flavours and suites: internal/arch.
declare -A debian_of=() flavour_of=() suites_of=()
all=()
while read -r goarch deb flav suites; do
	all+=("$goarch")
	debian_of[$goarch]=$deb flavour_of[$goarch]=${flav#-} suites_of[$goarch]=${suites#-}
done < <(go run ./internal/arch/archtable -f '{{.GOARCH}} {{.Debian}} {{or .KernelFlavour "-"}} {{or .KernelSuites "-"}}')
[ ${#all[@]} -gt 0 ] || { log "internal/arch/archtable listed no arches"; exit 1; }

args=()
test_flags=()
while [ $# -gt 0 ]; do
	case $1 in
	--) shift; test_flags=("$@"); break ;;
	all) args+=("${all[@]}") ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) args+=("$1") ;;
	esac
	shift
done
[ ${#args[@]} -gt 0 ] || args=(arm64)
[ ${#test_flags[@]} -gt 0 ] || test_flags=(-test.v -test.count=1 "-test.timeout=$go_timeout")

# Targets are GOARCH@suite; an arch without a Debian kernel is noted.
targets=() nokernel=()
for a in "${args[@]}"; do
	goarch=${a%@*}
	[ -n "${debian_of[$goarch]+x}" ] || { log "unknown architecture $goarch (known: ${all[*]})"; exit 2; }
	if [ "$goarch" = amd64 ]; then
		nokernel+=("kernel-test: amd64 NONE: the host's own kernel, which go test ./... runs on")
		continue
	fi
	if [ -z "${suites_of[$goarch]}" ]; then
		nokernel+=("kernel-test: $goarch NONE: Debian (bookworm, trixie) has no $goarch kernel; qemu-test.sh runs it under qemu-user only")
		continue
	fi
	if [[ $a == *@* ]]; then
		suite=$(suite_of "${a#*@}") || exit 2
		[[ " ${suites_of[$goarch]} " == *" $suite "* ]] || { log "$goarch has no $suite kernel (it has: ${suites_of[$goarch]})"; exit 2; }
		targets+=("$goarch@$suite")
		continue
	fi
	for suite in ${suites_of[$goarch]}; do
		[ -z "$only_suite" ] || [ "$suite" = "$only_suite" ] || continue
		targets+=("$goarch@$suite")
	done
done
[ ${#targets[@]} -gt 0 ] || [ ${#nokernel[@]} -gt 0 ] || { log "no kernel to boot for: ${args[*]}${only_suite:+ with KERNEL_TEST_SUITE=$only_suite}"; exit 2; }


# config GOARCH: sets, for that architecture, Debian's name and kernel flavour
# (from internal/arch), the qemu binary and its package, the machine, the
# console and the Go settings.
config() {
	goenv=() halt=poweroff skip='' why=''
	debarch=${debian_of[$1]} flavour=${flavour_of[$1]}
	case $1 in
	arm64)
		qemu=qemu-system-aarch64 qemupkg=qemu-system-arm
		machine=(-M virt -cpu cortex-a57 -smp 2 -m 1024) console=ttyAMA0 ;;
	arm)
		# armmp-lpae needs LPAE, which the Cortex-A15 has.
		qemu=qemu-system-arm qemupkg=qemu-system-arm
		machine=(-M virt -cpu cortex-a15 -smp 2 -m 1024) console=ttyAMA0 goenv=(GOARM=7) ;;
	ppc64le)
		qemu=qemu-system-ppc64 qemupkg=qemu-system-ppc
		# Spectre mitigations TCG cannot emulate are declared absent, not warned about.
		local pseries=pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off
		machine=(-M "$pseries" -cpu power9 -smp 2 -m 1024) console=hvc0 ;;
	s390x)
		qemu=qemu-system-s390x qemupkg=qemu-system-misc
		# qemu takes the kernel's power off for a crash and keeps running.
		machine=(-M s390-ccw-virtio -cpu max -smp 2 -m 1024) console=ttysclp0 halt=restart
		if [ "${suite:-}" = trixie ]; then
			# Linux 6.12 sums checksums with vector instructions, which
			# qemu 7.2's TCG gets wrong: loopback drops the TCP reset of
			# a refused connect (InCsumErrors in /proc/net/snmp), so the
			# refusal is never reported. Not the kernel's fault: 6.1 and
			# the other arches' 6.12 report it.
			skip='^TestHardeningEveryFdKind$/^tcp_connect_refused$'
			why="qemu 7.2 TCG miscomputes 6.12's vector checksums"
		fi ;;
	riscv64)
		# -bios default: qemu's own OpenSBI (qemu-system-data) starts the kernel.
		qemu=qemu-system-riscv64 qemupkg=qemu-system-misc
		machine=(-M virt -cpu rv64 -smp 2 -m 1024 -bios default) console=ttyS0 ;;
	mips64le)
		# Malta boots this kernel only with one CPU and at most 256 MiB.
		qemu=qemu-system-mips64el qemupkg=qemu-system-mips
		machine=(-M malta -cpu MIPS64R2-generic -m 256) console=ttyS0 ;;
	mipsle)
		qemu=qemu-system-mipsel qemupkg=qemu-system-mips
		machine=(-M malta -cpu 24Kf -m 256) console=ttyS0 ;;
	386)
		qemu=qemu-system-i386 qemupkg=qemu-system-x86
		# TCG, not KVM: nested KVM on this kind of machine fails with
		# this kernel (an MSR it cannot set, or an internal error).
		machine=(-M pc -cpu max -smp 2 -m 1024) console=ttyS0 ;;
	*)
		log "$1: internal/arch names a kernel flavour, but this script has no qemu machine for it"; return 1 ;;
	esac
}

apt_updated=
need() { # need COMMAND PACKAGE: install PACKAGE unless COMMAND exists
	command -v "$1" >/dev/null 2>&1 && return
	[ -n "$apt_updated" ] || { apt-get update -q >&2; apt_updated=1; }
	apt-get install -y -q --no-install-recommends "$2" >&2
}

retry() { # retry COMMAND...: mirrors can fail a fetch while they sync
	local try
	for try in 1 2 3; do
		"$@" && return
		[ $try -eq 3 ] || { log "retrying in 10s: $*"; sleep 10; }
	done
	return 1
}

# fetch: makes $kdir hold Debian $suite's current kernel of $flavour for
# $debarch (kernel, release) and the static busybox the guest gets as /bin.
# Kept in $cache: a directory per suite, arch, flavour and release, filled
# under a lock, renamed into place whole and never changed again, and a
# symlink to the current one, replaced atomically; so that concurrent runs
# neither race nor see half a kernel, even with KERNEL_TEST_REFRESH. A
# private apt setup, with only that suite's main and only $debarch, leaves
# the host's architectures and package lists alone.
fetch() {
	local link=$cache/$suite-$debarch-$flavour
	complete() { kdir=$(readlink -f "$link") && [ -s "$kdir/kernel" ] && [ -s "$kdir/release" ] && [ -s "$kdir/busybox" ]; }
	if [ -z "${KERNEL_TEST_REFRESH:-}" ] && complete; then
		return
	fi
	mkdir -p "$cache"
	local lock
	exec {lock}>"$cache/.lock-$suite-$debarch"
	flock "$lock"
	if [ -z "${KERNEL_TEST_REFRESH:-}" ] && complete; then # another run fetched it meanwhile
		exec {lock}>&-
		return
	fi
	local apt=$cache/apt-$suite-$debarch codename uri targets
	codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
	# The mirror the host's own Debian main comes from serves every suite.
	# shellcheck disable=SC2016 # apt's format, not the shell's
	targets=(indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages')
	uri=$(apt-get "${targets[@]}" | awk -v c="$codename" '$2 == c && $3 == "main" { print $1; exit }')
	if [ -z "$uri" ]; then
		apt-get update -q >&2
		uri=$(apt-get "${targets[@]}" | awk -v c="$codename" '$2 == c && $3 == "main" { print $1; exit }')
	fi
	[ -n "$uri" ] || { log "no Debian $codename main in the apt sources"; return 1; }
	mkdir -p "$apt/lists/partial" "$apt/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" >"$apt/sources.list"
	local opts=(-q -o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt" -o "Dir::Cache::archives=$apt/archives"
		-o Dir::State::status=/dev/null -o "APT::Architecture=$debarch" -o "APT::Architectures=$debarch"
		-o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false -o APT::Sandbox::User=root)
	retry apt-get "${opts[@]}" update >&2
	# linux-image-<flavour> depends on the current linux-image-<release>;
	# older releases may still be indexed, and a mirror may lack the newest
	# one's file (404) while it syncs: try them newest first.
	local current pkg dl candidates
	current=$(apt-cache "${opts[@]}" depends "linux-image-$flavour" | sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*\).*/\1/p' | head -n 1)
	[ -n "$current" ] || { log "no kernel package linux-image-$flavour for $debarch in $suite"; return 1; }
	mapfile -t candidates < <({ echo "$current"; apt-cache "${opts[@]}" pkgnames linux-image- | grep -E -- "^linux-image-[0-9].*-$flavour\$" | sort -rV; } | awk '!seen[$0]++')
	dl=$(mktemp -d "$cache/.fetch-XXXXXX")
	(cd "$dl" && retry apt-get "${opts[@]}" download busybox-static >&2)
	pkg=
	for candidate in "${candidates[@]}"; do
		if (cd "$dl" && apt-get "${opts[@]}" download "$candidate" >&2); then
			pkg=$candidate
			break
		fi
		log "$suite $debarch: $candidate did not download; trying the next indexed kernel"
	done
	[ -n "$pkg" ] || { log "no kernel of ${candidates[*]} downloaded"; rm -rf "$dl"; return 1; }
	mkdir "$dl/k" "$dl/x"
	dpkg-deb --fsys-tarfile "$dl/${pkg}"_*.deb | tar -x -C "$dl/x" ./boot
	mv "$dl"/x/boot/vmlinu[xz]-* "$dl/k/kernel"
	# bookworm's busybox-static has bin/busybox, trixie's usr/bin/busybox.
	dpkg-deb -x "$dl"/busybox-static_*.deb "$dl/x"
	if [ -f "$dl/x/usr/bin/busybox" ]; then mv "$dl/x/usr/bin/busybox" "$dl/k/busybox"; else mv "$dl/x/bin/busybox" "$dl/k/busybox"; fi
	echo "${pkg#linux-image-}" >"$dl/k/release"
	kdir=$link-${pkg#linux-image-}
	[ -d "$kdir" ] || mv -T "$dl/k" "$kdir"
	ln -sfn "$(basename "$kdir")" "$dl/link"
	mv -T "$dl/link" "$link"
	rm -rf "$dl"
	exec {lock}>&-
}

# initramfs: builds the test binaries for $goarch and packs them with kinit,
# busybox and a copy of the module, so that each binary runs in its package's
# directory and finds testdata and any other file it reads there.
initramfs() {
	local stage=$work/stage-$target pkg dir name
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,etc,proc,sys,dev,tmp,src}
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$stage/etc/hosts"
	# Tests may run programs a booted system has, such as /bin/cat.
	cp "$kdir/busybox" "$stage/bin/busybox"
	for applet in sh cat echo sleep true false; do ln -s busybox "$stage/bin/$applet"; done
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ ! -e "$f" ] || printf '%s\0' "$f"; done |
			cpio --quiet -0 -pdm "$stage/src"
	else
		tar -c --exclude=.git . | tar -x -C "$stage/src"
	fi
	CGO_ENABLED=0 GOARCH=$goarch env ${goenv[@]+"${goenv[@]}"} go build -o "$stage/init" ./internal/kinit
	: >"$stage/kinit.tests"
	built=0
	for pkg in $packages; do
		[ -n "$(go list -f '{{.TestGoFiles}}{{.XTestGoFiles}}' "$pkg" 2>/dev/null | tr -d '[]')" ] || continue
		dir=/src/$(realpath --relative-to=. "$pkg") dir=${dir%/.}
		name=$(go list -f '{{.Name}}' "$pkg")
		mkdir -p "$stage$dir"
		CGO_ENABLED=0 GOARCH=$goarch env ${goenv[@]+"${goenv[@]}"} go test -c -o "$stage$dir/$name.test" "$pkg"
		echo "$dir/$name.test" >>"$stage/kinit.tests"
		built=$((built + 1))
	done
	[ $built -gt 0 ] || { log "no test binaries built from: $packages"; return 1; }
	printf '%s\n' "${test_flags[@]}" >"$stage/kinit.args"
	[ -z "$skip" ] || echo "-test.skip=$skip" >>"$stage/kinit.args"
	echo PATH=/bin >"$stage/kinit.env"
	echo "$halt" >"$stage/kinit.halt"
	# epoll_pwait2 came in Linux 5.11: from there the tests must see it work.
	local release major minor
	release=$(cat "$kdir/release") major=${release%%.*} minor=${release#*.} minor=${minor%%.*}
	if [ "$major" -gt 5 ] || { [ "$major" -eq 5 ] && [ "$minor" -ge 11 ]; }; then
		echo EPOLL_TEST_REQUIRE_PWAIT2=1 >>"$stage/kinit.env"
	fi
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$work/initrd-$target"
}

# boot: runs the VM, shows its console, and checks kinit's summary.
boot() {
	local serial=$work/console-$target.log release result
	release=$(cat "$kdir/release")
	local start=$SECONDS
	"$qemu" "${machine[@]}" ${qemu_extra[@]+"${qemu_extra[@]}"} -nic none -nographic -monitor none -no-reboot \
		-kernel "$kdir/kernel" -initrd "$work/initrd-$target" \
		-append "console=$console panic=-1 quiet" </dev/null >"$serial" 2>&1 &
	local vm=$! deadline=$((SECONDS + vm_timeout)) done_at=
	while kill -0 "$vm" 2>/dev/null; do
		# -s: the shell may not have made $serial yet.
		if [ -z "$done_at" ] && grep -qs 'KINIT RESULT' "$serial"; then done_at=$SECONDS; fi
		# Power off ends qemu at once. If it does not, the tests are over
		# anyway; qemu can hang on SIGTERM once the guest has stopped.
		if { [ -n "$done_at" ] && [ $((SECONDS - done_at)) -ge 10 ]; } || [ $SECONDS -ge $deadline ]; then
			[ $SECONDS -lt $deadline ] || log "$target: no result after ${vm_timeout}s: stopping the VM"
			[ -z "$done_at" ] || log "$target: qemu still running 10s after the tests ended: stopping it"
			kill -KILL "$vm" 2>/dev/null || true
			break
		fi
		sleep 1
	done
	wait "$vm" 2>/dev/null || true
	took=$((SECONDS - start))
	[ -z "$logs" ] || { mkdir -p "$logs" && cp "$serial" "$logs/"; }
	# The console, less the -test.v lines that only announce a test.
	tr -d '\r' <"$serial" | grep -Ev '^ *=== (RUN|PAUSE|CONT|NAME) ' | sed 's/^/  | /' >&2
	# Kernel messages may share the line; what follows the marker is kinit's.
	result=$(tr -d '\r' <"$serial" | grep -o 'KINIT RESULT .*' | tail -n 1 || true)
	if [ -z "$result" ]; then
		echo "FAIL: no result from the VM after ${took}s (timeout ${vm_timeout}s, or it crashed: see its console above)" >"$work/line-$target"
		return 1
	fi
	local kernel binaries passed failed tests_passed tests_failed summary rss
	kernel=$(sed -n 's/.* kernel=\([^ ]*\).*/\1/p' <<<"$result")
	binaries=$(sed -n 's/.* binaries=\([0-9]*\).*/\1/p' <<<"$result")
	passed=$(sed -n 's/.* passed=\([0-9]*\).*/\1/p' <<<"$result")
	failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$result")
	# Top-level tests only; subtests are indented.
	tests_passed=$(tr -d '\r' <"$serial" | grep -c '^--- PASS' || true)
	tests_failed=$(tr -d '\r' <"$serial" | grep -c '^--- FAIL' || true)
	# kinit's "KINIT PASS epoll.test (24.4s, peak RSS 30000 KiB)", per binary.
	rss=$(tr -d '\r' <"$serial" | sed -n 's/.*KINIT \(PASS\|FAIL\) \([^ :]*\).*peak RSS \([0-9]*\) KiB.*/\2 \3/p' |
		awk '{ printf "%s%s %.1f MiB", (NR > 1 ? ", " : ""), $1, $2 / 1024 }')
	summary="Linux $kernel, $passed/$binaries test binaries passed ($tests_passed tests passed, $tests_failed failed${skip:+; skipped $skip: $why}), boot and tests ${took}s, peak RSS: ${rss:-unknown}"
	if [ "$kernel" != "$release" ]; then
		echo "FAIL: booted kernel $kernel, expected $release" >"$work/line-$target"
		return 1
	fi
	if [ "$binaries" != "$built" ] || [ "$passed" != "$built" ] || [ "$failed" != 0 ]; then
		echo "FAIL: $summary" >"$work/line-$target"
		return 1
	fi
	echo "PASS: $summary" >"$work/line-$target"
}

for target in "${targets[@]}"; do
	config "${target%@*}" || exit 2
done
need cpio cpio
need dpkg-deb dpkg
need flock util-linux
for target in "${targets[@]}"; do
	config "${target%@*}"
	need "$qemu" "$qemupkg"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lines=()
npass=0 nfail=0
for target in "${targets[@]}"; do
	start=$SECONDS
	goarch=${target%@*} suite=${target#*@}
	name="$goarch@$(linux_of "$suite")"
	log "$name: building, fetching Debian $suite's kernel, booting"
	# A subshell, so that set -e stops at a target's first failure
	# (it would not inside an if) and the next target still runs.
	set +e
	(set -e; config "$goarch"; fetch; initramfs; boot)
	rc=$?
	set -e
	line=$(cat "$work/line-$target" 2>/dev/null || echo "FAIL: could not build, fetch or boot it (see above)")
	[ $rc -eq 0 ] || [[ $line == FAIL* ]] || line="FAIL: exit status $rc after: $line"
	lines+=("kernel-test: $name ($suite) $line; $((SECONDS - start))s in all")
	if [ $rc -eq 0 ]; then npass=$((npass + 1)); else nfail=$((nfail + 1)); fi
done
printf '%s\n' ${lines[@]+"${lines[@]}"} ${nokernel[@]+"${nokernel[@]}"}
echo "kernels: $npass passed, $nfail failed; ${#nokernel[@]} arches with no kernel to boot"
[ "$nfail" -eq 0 ]
