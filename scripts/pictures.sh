#!/usr/bin/env bash
# Draws LAYOUT.md's pictures (doc/layout/*.svg) by running the inspector on
# the architecture each belongs to (natively or under qemu-user, as
# internal/arch says), and checks them: each committed file must equal what
# the inspector draws now, and each must render in headless Chromium to a
# screenshot that is not blank and shows the fields' colours.
#
#   scripts/pictures.sh       # check (CI); screenshots are left in $OUT
#   scripts/pictures.sh -w    # write doc/layout/*.svg, then check them
#
# Installs qemu-user-static, chromium and fonts-dejavu-core if missing.
# Run it as root: Chromium gets --no-sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive CGO_ENABLED=0

write=
[ "${1:-}" != -w ] || write=1
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"

apt_updated=
need() { # need FILE-OR-COMMAND PACKAGE: install PACKAGE unless it is there
	[ -e "$1" ] || command -v "$1" >/dev/null 2>&1 && return
	[ -n "$apt_updated" ] || { apt-get update -q >/dev/null; apt_updated=1; }
	apt-get install -y -q --no-install-recommends "$2" >/dev/null
}
need qemu-aarch64-static qemu-user-static
need chromium chromium
need /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf fonts-dejavu-core # svg.go's first choice

failed=0
pngs=() colours=()
while read -r goarch mode file want; do
	qemu=$(go run ./internal/arch/archtable -f '{{.Qemu}}' "$goarch")
	GOARCH=$goarch go build -o "$out/epollinspect.$goarch" ./cmd/epollinspect
	svg=$out/$file
	if ! ${qemu:+"$qemu"} "$out/epollinspect.$goarch" -svg "$mode" >"$svg" </dev/null; then
		echo "FAIL $file: the inspector failed on linux/$goarch"; failed=1; continue
	fi
	[ -z "$write" ] || cp "$svg" "doc/layout/$file"
	if ! cmp -s "$svg" "doc/layout/$file"; then
		echo "FAIL $file: doc/layout/$file differs from what the inspector draws on linux/$goarch (scripts/pictures.sh -w redraws it):"
		diff -u "doc/layout/$file" "$svg" | head -n 20 | sed 's/^/    /' || true
		failed=1
	else
		echo "ok   $file: drawn on linux/$goarch${qemu:+ under $qemu}, equal to the committed file"
	fi
	# Chromium's window is the picture's size; the screenshot is what it shows.
	size=$(sed -n '1s/^<svg [^>]* width="\([0-9]*\)" height="\([0-9]*\)".*/\1,\2/p' "$svg")
	png=$out/${file%.svg}.png profile=$(mktemp -d)
	if ! timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --window-size="${size:-800,600}" --screenshot="$png" \
		"file://$(realpath "$svg")" </dev/null >"$out/chromium.log" 2>&1 || [ ! -s "$png" ]; then
		echo "FAIL $file: Chromium made no screenshot:"; tail -n 5 "$out/chromium.log" | sed 's/^/    /'; failed=1
	else
		pngs+=("$png") colours+=("$want")
	fi
	rm -rf "$profile"
done < <(go run ./cmd/epollinspect -pictures)

# Each picture's field colours, which the inspector lists with it, and none
# of the box in which Chromium reports an XML error above what it rendered.
for i in "${!pngs[@]}"; do
	go run ./internal/pngcheck -want "${colours[$i]}" -forbid '#ffdddd' "${pngs[$i]}" || failed=1
done
[ ${#pngs[@]} -gt 0 ] || { echo "FAIL: no pictures listed by the inspector"; failed=1; }
echo "screenshots: $out"
if [ "$failed" != 0 ]; then echo "pictures.sh: FAIL"; exit 1; fi
echo "pictures.sh: PASS (${#pngs[@]} pictures)"
