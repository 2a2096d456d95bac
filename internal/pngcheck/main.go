// Command pngcheck fails unless each PNG screenshot shows a drawing: it
// decodes, is not one flat colour, has each -want colour in at least -min
// pixels and no pixel of a -forbid colour (Chromium draws an XML error in a
// #ffdddd box above what it could render). scripts/pictures.sh runs it on Chromium's screenshots of
// LAYOUT.md's pictures, so that a picture that renders blank, or without
// its fields' colours, fails CI.
//
//	go run ./internal/pngcheck -want '#bcd7ff,#ffd29e' -forbid '#ffdddd' shot1.png shot2.png
package main

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"strconv"
	"strings"
)

func main() {
	want := flag.String("want", "", "comma-separated #rrggbb colours that must appear")
	forbid := flag.String("forbid", "", "comma-separated #rrggbb colours that must not appear")
	minPixels := flag.Int("min", 200, "pixels each wanted colour must cover")
	flag.Parse()
	wanted, forbidden := parseColours(*want), parseColours(*forbid)
	failed := false
	for _, name := range flag.Args() {
		if msg, err := check(name, wanted, forbidden, *minPixels); err != nil {
			fmt.Printf("FAIL %s: %v\n", name, err)
			failed = true
		} else {
			fmt.Printf("ok   %s: %s\n", name, msg)
		}
	}
	if failed || flag.NArg() == 0 {
		os.Exit(1)
	}
}

func parseColours(list string) [][3]uint8 {
	var colours [][3]uint8
	for _, c := range strings.Split(list, ",") {
		if c == "" {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(c, "#"), 16, 32)
		if err != nil || len(c) != 7 {
			fmt.Fprintf(os.Stderr, "pngcheck: bad colour %q\n", c)
			os.Exit(2)
		}
		colours = append(colours, [3]uint8{uint8(v >> 16 & 0xff), uint8(v >> 8 & 0xff), uint8(v & 0xff)})
	}
	return colours
}

func check(name string, colours, forbidden [][3]uint8, minPixels int) (string, error) {
	f, err := os.Open(name) //nolint:gosec // G304: the PNG named on the command line
	if err != nil {
		return "", err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return "", err
	}
	b := img.Bounds()
	counts := make(map[[3]uint8]int)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[rgb(img, x, y)]++
		}
	}
	white := counts[[3]uint8{255, 255, 255}]
	total := b.Dx() * b.Dy()
	if len(counts) < 3 || white == total {
		return "", fmt.Errorf("%dx%d, %d distinct colours: blank", b.Dx(), b.Dy(), len(counts))
	}
	for _, c := range forbidden {
		if n := counts[c]; n > 0 {
			return "", fmt.Errorf("%d pixels of #%02x%02x%02x, which must not appear (an error message?)", n, c[0], c[1], c[2])
		}
	}
	var found []string
	for _, c := range colours {
		n := counts[c]
		if n < minPixels {
			return "", fmt.Errorf("colour #%02x%02x%02x covers %d pixels, want at least %d", c[0], c[1], c[2], n, minPixels)
		}
		found = append(found, fmt.Sprintf("#%02x%02x%02x %d px", c[0], c[1], c[2], n))
	}
	return fmt.Sprintf("%dx%d, %d distinct colours, %d%% not white; %s", b.Dx(), b.Dy(), len(counts), 100*(total-white)/total, strings.Join(found, ", ")), nil
}

func rgb(img image.Image, x, y int) [3]uint8 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint8{uint8(r >> 8 & 0xff), uint8(g >> 8 & 0xff), uint8(b >> 8 & 0xff)}
}
