package main

// The busy-poll ioctl request numbers, drawn bit by bit: the two _IOC
// encodings Linux uses (LAYOUT.md, "Busy polling"). The root package
// declares each arch's encoding in sys_linux_*.go and derives its numbers
// in busypoll.go; this file derives them the same way from internal/arch's
// IoctlDir3Bits, for the picture, and TestIocNumbers holds both encodings
// to the kernel's values.

import (
	"fmt"
	"io"
	"strings"

	"github.com/rawpoll/epoll/internal/arch"
)

// iocEncoding is one arch family's _IOC: size bits from bit 16, then the
// direction bits; write and read values.
type iocEncoding struct {
	name              string
	sizeBits, dirBits int
	write, read       uint32
	dir3              bool // internal/arch's IoctlDir3Bits
}

var iocEncodings = []iocEncoding{
	{"generic (asm-generic/ioctl.h)", 14, 2, 1, 2, false},
	{"mips and powerpc (their uapi/asm/ioctl.h)", 13, 3, 4, 2, true},
}

const (
	epollIocType    = 0x8a
	epollParamsSize = 8 // struct epoll_params, the same on every arch
)

func (e iocEncoding) request(dir, nr uint32) uint32 {
	return dir<<(16+e.sizeBits) | epollParamsSize<<16 | epollIocType<<8 | nr
}

// arches lists internal/arch's architectures with this encoding.
func (e iocEncoding) arches() string {
	var names []string
	for _, a := range arch.All {
		if a.IoctlDir3Bits == e.dir3 {
			names = append(names, a.GOARCH)
		}
	}
	return strings.Join(names, ", ")
}

const (
	colNr   = "#fff1a8"
	colType = "#d7c9f0"
	colSize = "#c9e7c1"
	colDir  = "#f6bccb"
)

const bitW = 24

// drawIoc draws EPIOCSPARAMS and EPIOCGPARAMS in both encodings, most
// significant bit first, one box per bit, coloured by _IOC field.
func drawIoc(w io.Writer) error {
	var s svg
	title := "The busy-poll ioctl numbers: _IOC in its two encodings"
	s.text(8, 24, 16, ` font-weight="bold"`, title)
	s.text(8, 44, 12, "", "_IOC(dir, type, nr, size): nr in bits 0-7, type 0x8a in bits 8-15, size 8 from bit 16, the direction above it.")
	y := 74
	for _, e := range iocEncodings {
		s.text(8, y, 13, ` font-weight="bold"`, fmt.Sprintf("%s: %d size bits, %d direction bits at %d, write %d, read %d", e.name, e.sizeBits, e.dirBits, 16+e.sizeBits, e.write, e.read))
		s.text(8, y+16, 12, ` fill="#555555"`, e.arches())
		y += 30
		for _, r := range []struct {
			name, macro string
			dir, nr     uint32
			dirName     string
		}{
			{"EPIOCSPARAMS", "_IOW", e.write, 1, "write"},
			{"EPIOCGPARAMS", "_IOR", e.read, 2, "read"},
		} {
			req := e.request(r.dir, r.nr)
			s.text(8, y+20, 13, ` font-weight="bold"`, fmt.Sprintf("%s = %s(0x8a, %d, struct epoll_params) = %#08x", r.name, r.macro, r.nr, req))
			y += 44
			for bit := 31; bit >= 0; bit-- {
				x := left + (31-bit)*bitW
				colour := colNr
				switch {
				case bit >= 16+e.sizeBits:
					colour = colDir
				case bit >= 16:
					colour = colSize
				case bit >= 8:
					colour = colType
				}
				s.text(x+bitW/2-1, y-5, 9, ` text-anchor="middle" fill="#555555"`, fmt.Sprint(bit))
				s.reach(x + bitW)
				s.f(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#666666"/>`+"\n", x, y, bitW-2, 28, colour)
				v := req >> bit & 1
				attrs := ` text-anchor="middle" fill="#888888"`
				if v == 1 {
					attrs = ` text-anchor="middle" font-weight="bold"`
				}
				s.text(x+bitW/2-1, y+19, 14, attrs, fmt.Sprint(v))
			}
			// Field spans, in bit columns from the left (bit 31).
			spans := []struct {
				hi, lo int
				label  string
			}{
				{31, 16 + e.sizeBits, fmt.Sprintf("dir %d: %s", r.dir, r.dirName)},
				{15 + e.sizeBits, 16, fmt.Sprintf("size %d", epollParamsSize)},
				{15, 8, fmt.Sprintf("type %#x", epollIocType)},
				{7, 0, fmt.Sprintf("nr %d", r.nr)},
			}
			for _, sp := range spans {
				x0, x1 := left+(31-sp.hi)*bitW, left+(31-sp.lo)*bitW+bitW-2
				s.f(`<path d="M%d %d v5 H%d v-5" fill="none" stroke="#555555"/>`+"\n", x0, y+32, x1)
				if sp.hi-sp.lo < 4 { // too narrow to centre the label under
					s.text(x0, y+48, 12, "", sp.label)
				} else {
					s.text((x0+x1)/2, y+48, 12, ` text-anchor="middle"`, sp.label)
				}
			}
			y += 70
		}
		y += 10
	}
	x := 8
	for _, it := range []struct{ colour, name string }{{colDir, "direction"}, {colSize, "size"}, {colType, "type"}, {colNr, "number"}} {
		s.f(`<rect x="%d" y="%d" width="18" height="18" fill="%s" stroke="#666666"/>`+"\n", x, y, it.colour)
		s.text(x+24, y+14, 12, "", it.name)
		x += 24 + 8*len(it.name) + 22
	}
	return s.write(w, y+30, title)
}
