package main

// The pictures in LAYOUT.md: the buffer the kernel filled, one box per
// byte, drawn as SVG with fmt alone so that the file is the same on every
// run and every machine (no fd numbers, no floats, no map order).

import (
	"encoding/binary"
	"fmt"
	"html"
	"io"
	"runtime"
	"strings"
	"unsafe"

	"github.com/rawpoll/epoll/internal/arch"
)

// A picture is one SVG file under doc/layout that the inspector draws on
// one architecture. Together they cover every distinct layout in
// internal/arch (TestPicturesCoverEveryLayout), experiment B and the
// busy-poll ioctl numbers. colours are two of the picture's fill colours,
// which scripts/pictures.sh looks for in Chromium's screenshot.
type picture struct {
	arch, mode, file, colours string
}

var pictures = []picture{
	{"amd64", "layout", "epoll_event-amd64.svg", colEvents + "," + colData},  // 12 bytes, packed, little-endian
	{"arm64", "layout", "epoll_event-arm64.svg", colEvents + "," + colData},  // 16 bytes, little-endian
	{"s390x", "layout", "epoll_event-s390x.svg", colEvents + "," + colData},  // 16 bytes, big-endian
	{"arm", "wrong", "epoll_event-arm-wrong.svg", colEvents + "," + colData}, // experiment B: the pad missing
	{"amd64", "ioc", "busypoll-ioc.svg", colDir + "," + colSize},             // both _IOC encodings
}

// Colours of the fields.
const (
	colEvents  = "#bcd7ff"
	colData    = "#ffd29e"
	colPadding = "#dcdcdc"
	colUnused  = "#ffffff"
	colWrong   = "#c00000"
)

type field int

const (
	fEvents field = iota
	fPadding
	fData
	fUnused // a slot beyond the events Wait returned
)

func (f field) colour() string {
	return [...]string{colEvents, colPadding, colData, colUnused}[f]
}

func (f field) stroke() string {
	return [...]string{"#2f6db5", "#888888", "#c46a00", "#aaaaaa"}[f]
}

// grid is one way of cutting the buffer into records: the kernel's, or a
// Go struct's.
type grid struct {
	size, dataOff int
	n             int // records Wait returned; later slots are unused
}

func (g grid) field(off int) field {
	switch rel := off % g.size; {
	case off/g.size >= g.n:
		return fUnused
	case rel < 4:
		return fEvents
	case rel < g.dataOff:
		return fPadding
	default:
		return fData
	}
}

const (
	boxW, boxH = 38, 34
	gap        = 3
	left       = 96 // room for the row labels
	rowH       = boxH + 76
)

// svg collects the body and how far right it reaches, so the canvas fits
// the text as well as the boxes.
type svg struct {
	strings.Builder
	right int
}

func (s *svg) reach(x int) { s.right = max(s.right, x) }

func (s *svg) f(format string, args ...any) { fmt.Fprintf(s, format, args...) }

func (s *svg) text(x, y int, size int, attrs, body string) {
	// A monospace advance is about 0.6 em; middle-anchored text reaches half as far.
	w := len([]rune(body)) * size * 62 / 100
	if strings.Contains(attrs, "middle") {
		w /= 2
	}
	s.reach(x + w)
	s.f(`<text x="%d" y="%d" font-size="%d"%s>%s</text>`+"\n", x, y, size, attrs, html.EscapeString(body))
}

// bytesRow draws record i of g over raw at height y: the offsets above the
// boxes, the bytes in them, hatching where the buffer still holds fill.
// strip, if set, colours a band at the bottom of each box with the field
// the kernel meant, for a grid that is not the kernel's.
func (s *svg) bytesRow(y int, raw []byte, g grid, i int, label string, strip func(int) field) {
	s.text(8, y+boxH/2+5, 13, ` font-weight="bold"`, label)
	s.text(8, y+boxH/2+21, 11, ` fill="#555555"`, fmt.Sprintf("bytes %d-%d", i*g.size, (i+1)*g.size-1))
	for j := 0; j < g.size; j++ {
		off := i*g.size + j
		x := left + j*(boxW+gap)
		s.text(x+boxW/2, y-5, 10, ` text-anchor="middle" fill="#555555"`, fmt.Sprintf("%02x", off))
		if off >= len(raw) {
			continue
		}
		f := g.field(off)
		s.reach(x + boxW)
		s.f(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="%s" stroke-width="1.5"/>`+"\n", x, y, boxW, boxH, f.colour(), f.stroke())
		untouched := raw[off] == fill
		if untouched {
			s.f(`<rect x="%d" y="%d" width="%d" height="%d" fill="url(#untouched)" stroke="none"/>`+"\n", x, y, boxW, boxH)
		}
		if strip != nil {
			k := strip(off)
			s.f(`<rect x="%d" y="%d" width="%d" height="6" fill="%s" stroke="none"/>`+"\n", x+1, y+boxH-7, boxW-2, k.stroke())
		}
		attrs := ` text-anchor="middle" font-weight="bold"`
		if untouched {
			attrs = ` text-anchor="middle" fill="#777777"`
		}
		s.text(x+boxW/2, y+boxH/2+5, 14, attrs, fmt.Sprintf("%02x", raw[off]))
	}
}

// span labels bytes [from, to) of a row under the boxes.
func (s *svg) span(y, from, to int, colour string, lines ...string) {
	x0, x1 := left+from*(boxW+gap), left+to*(boxW+gap)-gap
	s.f(`<path d="M%d %d v5 H%d v-5" fill="none" stroke="#555555"/>`+"\n", x0, y+boxH+4, x1)
	for k, line := range lines {
		s.text((x0+x1)/2, y+boxH+22+k*15, 12, fmt.Sprintf(` text-anchor="middle" fill="%s"`, colour), line)
	}
}

// record draws record i of g, its fields decoded as a Go program reading
// them with that grid would: events and data in order, checked against
// what was registered.
func (s *svg) record(y int, raw []byte, g grid, i int, label string, order binary.ByteOrder, strip func(int) field, events uint32, data uint64, wantEvents uint32, wantData uint64) {
	s.bytesRow(y, raw, g, i, label, strip)
	if i >= g.n {
		s.span(y, 0, g.size, "#555555", fmt.Sprintf("slot %d: beyond the %d events Wait returned, not read", i, g.n))
		return
	}
	if events == wantEvents {
		s.span(y, 0, 4, "#000000", fmt.Sprintf("events %#x", events), bitNames(events))
	} else {
		s.span(y, 0, 4, colWrong, fmt.Sprintf("events %#x ✗", events), fmt.Sprintf("want %#x", wantEvents))
	}
	if g.dataOff > 4 {
		base := i * g.size
		s.span(y, 4, g.dataOff, "#555555", "padding", written(raw[base+4:base+g.dataOff]))
	}
	if data == wantData {
		s.span(y, g.dataOff, g.size, "#000000", fmt.Sprintf("data %#016x", data), "the token registered")
	} else {
		s.span(y, g.dataOff, g.size, colWrong, fmt.Sprintf("data %#016x ✗", data), fmt.Sprintf("registered %#016x", wantData))
	}
}

func (s *svg) legend(y int, strip bool) {
	items := []struct {
		colour, stroke, name string
		hatch                bool
	}{
		{colEvents, fEvents.stroke(), "events", false},
		{colPadding, fPadding.stroke(), "padding", false},
		{colData, fData.stroke(), "data", false},
		{colUnused, fUnused.stroke(), "unused slot", false},
		{colUnused, "#888888", fmt.Sprintf("%#x: not written by the kernel", fill), true},
	}
	x := 8
	for _, it := range items {
		s.f(`<rect x="%d" y="%d" width="18" height="18" fill="%s" stroke="%s" stroke-width="1.5"/>`+"\n", x, y, it.colour, it.stroke)
		if it.hatch {
			s.f(`<rect x="%d" y="%d" width="18" height="18" fill="url(#untouched)"/>`+"\n", x, y)
		}
		s.text(x+24, y+14, 12, "", it.name)
		x += 24 + 8*len(it.name) + 22
	}
	if strip {
		s.text(8, y+40, 12, "", "Fill: the field the Go struct reads there. Band: the field the kernel wrote.")
	}
}

// write writes the document: the canvas as wide as the body reaches and
// height high, on white, so that it reads the same on a dark page.
func (s *svg) write(w io.Writer, height int, title string) error {
	width := s.right + 12
	_, err := fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace">
<title>%s</title>
<defs><pattern id="untouched" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#f4f4f4"/><line x1="0" y1="0" x2="0" y2="8" stroke="#b8b8b8" stroke-width="3"/></pattern></defs>
<rect width="%d" height="%d" fill="#ffffff"/>
%s</svg>
`, width, height, width, height, html.EscapeString(title), width, height, s.String())
	return err
}

// drawPicture renders the picture of the given mode from a fresh run of
// the kernel: "layout" is the kernel's records as epoll.Event reads them;
// "wrong" adds, below them, the same bytes read through
// struct{ events uint32; data uint64 }, which must be a wrong layout on
// this arch (experiment B on arm).
func drawPicture(w io.Writer, mode string) error {
	if mode == "ioc" {
		return drawIoc(w)
	}
	raw, events, err := kernelEvents()
	if err != nil {
		return err
	}
	size, dataOff, order, err := kernelLayout(raw)
	if err != nil {
		return err
	}
	a, ok := arch.Lookup(runtime.GOARCH)
	if !ok || a.Layout() != (arch.Layout{Size: size, DataOffset: dataOff, BigEndian: order == binary.ByteOrder(binary.BigEndian)}) {
		return fmt.Errorf("the kernel's %d-byte records with data at %d disagree with internal/arch for linux/%s", size, dataOff, runtime.GOARCH)
	}
	native := binary.NativeEndian
	kernel := grid{size, dataOff, len(events)}
	rows := len(raw) / size
	// What was registered, by slot; later slots were not returned.
	want := [slots]struct {
		events uint32
		data   uint64
	}{{epollIn | epollOut, tokenA}, {epollIn, tokenB}}

	var s svg
	var title string
	switch mode {
	case "layout":
		title = fmt.Sprintf("struct epoll_event on linux/%s, as the kernel wrote it", runtime.GOARCH)
	case "wrong":
		if int(unsafe.Sizeof(naive{})) == size && int(unsafe.Offsetof(naive{}.data)) == dataOff {
			return fmt.Errorf("struct{ events uint32; data uint64 } is right on linux/%s: no wrong layout to draw", runtime.GOARCH)
		}
		title = fmt.Sprintf("struct epoll_event on linux/%s, read right and wrong", runtime.GOARCH)
	default:
		return fmt.Errorf("unknown picture %q (layout, wrong or ioc)", mode)
	}
	s.text(8, 24, 16, ` font-weight="bold"`, title)
	s.text(8, 44, 12, "", fmt.Sprintf("%d-byte records, data at offset %d, %s.", size, dataOff, shortEndian(order)))
	s.text(8, 60, 12, "", fmt.Sprintf("A %d-slot buffer, every byte %#x before epoll_pwait wrote 2 events into it.", slots, fill))
	y := 76
	if mode == "wrong" {
		s.text(8, y+14, 13, ` font-weight="bold"`, fmt.Sprintf("epoll.Event (%d bytes, data at %d): right", size, dataOff))
		y += 22
	}
	y += 24 // the offsets above the boxes
	for i := 0; i < rows; i++ {
		var ev uint32
		var data uint64
		if i < len(events) {
			ev, data = native.Uint32(raw[i*size:]), uint64(events[i].Token())
		}
		s.record(y, raw, kernel, i, fmt.Sprintf("[%d]", i), order, nil, ev, data, want[i].events, want[i].data)
		y += rowH
	}
	if mode == "wrong" {
		// Read the same bytes as a Go program with the wrong struct would:
		// through that struct, as the compiler lays it out here. The
		// kernel wrote the same bytes into a buffer of those slots, which
		// is large enough for them (3*12 >= 2*16).
		nsize, noff := int(unsafe.Sizeof(naive{})), int(unsafe.Offsetof(naive{}.data))
		wrong := make([]naive, slots)
		wraw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(wrong))), slots*nsize)
		if copy(wraw, raw) < len(events)*size {
			return fmt.Errorf("%d slots of the wrong struct hold less than the kernel's %d records", slots, len(events))
		}
		wg := grid{nsize, noff, len(events)}
		y += 30
		s.text(8, y-8, 13, ` font-weight="bold"`, fmt.Sprintf("struct{ events uint32; data uint64 } (%d bytes, data at %d here): wrong", nsize, noff))
		s.text(8, y+8, 12, "", fmt.Sprintf("The same bytes in %d-byte slots, as a program with this struct would read Wait's 2 events.", nsize))
		y += 34
		for i := range wrong {
			s.record(y, wraw, wg, i, fmt.Sprintf("[%d]", i), order, kernel.field, wrong[i].events, wrong[i].data, want[i].events, want[i].data)
			y += rowH
		}
	}
	s.legend(y, mode == "wrong")
	height := y + 30
	if mode == "wrong" {
		height += 24
	}
	return s.write(w, height, title)
}

func shortEndian(order binary.ByteOrder) string {
	if order == binary.ByteOrder(binary.BigEndian) {
		return "big-endian"
	}
	return "little-endian"
}
