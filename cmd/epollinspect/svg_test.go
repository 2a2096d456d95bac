package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/rawpoll/epoll/internal/arch"
)

const pictureDir = "../../doc/layout"

// wellFormed fails unless doc parses as XML with an <svg> root.
func wellFormed(t *testing.T, name string, doc []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q, want svg", name, root)
	}
}

// Each picture is checked where it is drawn, like the quotes: the arm
// picture by the arm test binary. Elsewhere the layout picture must still
// come out well-formed. -update rewrites this arch's files.
func TestPictures(t *testing.T) {
	mine := 0
	for _, p := range pictures {
		if p.arch != runtime.GOARCH {
			continue
		}
		mine++
		var got bytes.Buffer
		if err := drawPicture(&got, p.mode); err != nil {
			t.Fatalf("%s: %v", p.file, err)
		}
		wellFormed(t, p.file, got.Bytes())
		path := filepath.Join(pictureDir, p.file)
		want, err := os.ReadFile(path)
		switch {
		case err == nil && bytes.Equal(got.Bytes(), want):
		case *update:
			if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", path)
		case err != nil:
			t.Errorf("%v (go test -update on linux/%s draws it)", err, p.arch)
		default:
			t.Errorf("%s differs from what the inspector draws on linux/%s now (go test -update there, or scripts/pictures.sh -w, redraws it)", path, p.arch)
		}
	}
	if mine == 0 {
		var got bytes.Buffer
		if err := drawPicture(&got, "layout"); err != nil {
			t.Fatal(err)
		}
		wellFormed(t, "the layout picture of linux/"+runtime.GOARCH, got.Bytes())
	}
	// The output must not depend on fd numbers or addresses either.
	var a, b bytes.Buffer
	if err := drawPicture(&a, "layout"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := drawPicture(&b, "layout"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two drawings of the layout picture differ")
	}
}

// Every distinct layout in internal/arch has its picture, and so does
// experiment B; every file under doc/layout is one of them.
func TestPicturesCoverEveryLayout(t *testing.T) {
	drawn := make(map[arch.Layout]bool)
	var files []string
	for _, p := range pictures {
		a, ok := arch.Lookup(p.arch)
		if !ok {
			t.Errorf("picture %s is drawn on %s, which internal/arch lacks", p.file, p.arch)
		}
		if p.mode == "layout" {
			drawn[a.Layout()] = true
		}
		files = append(files, p.file)
	}
	for _, a := range arch.All {
		if !drawn[a.Layout()] {
			t.Errorf("no picture of %s's layout %+v", a.GOARCH, a.Layout())
		}
	}
	if !slices.ContainsFunc(pictures, func(p picture) bool { return p.arch == "arm" && p.mode == "wrong" }) {
		t.Error("no picture of experiment B (the wrong layout on arm)")
	}
	committed, err := filepath.Glob(filepath.Join(pictureDir, "*.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range committed {
		if !slices.Contains(files, filepath.Base(c)) {
			t.Errorf("%s is not drawn by the inspector: remove it or add it to pictures", c)
		}
	}
}

// The picture's numbers are the kernel's: include/uapi/linux/eventpoll.h's
// _IOW/_IOR with each encoding's ioctl.h, as the issue quotes them from
// real kernels (the root package's TestBusyPollRequestNumbers holds its own
// numbers to the same values). Every arch of internal/arch has one of the
// two encodings.
func TestIocNumbers(t *testing.T) {
	want := map[bool][2]uint32{false: {0x40088a01, 0x80088a02}, true: {0x80088a01, 0x40088a02}}
	for _, e := range iocEncodings {
		got := [2]uint32{e.request(e.write, 1), e.request(e.read, 2)}
		if got != want[e.dir3] {
			t.Errorf("%s: EPIOCSPARAMS, EPIOCGPARAMS = %#x, want %#x", e.name, got, want[e.dir3])
		}
		if e.sizeBits+e.dirBits != 16 {
			t.Errorf("%s: %d size and %d direction bits do not fill bits 16-31", e.name, e.sizeBits, e.dirBits)
		}
	}
	if len(iocEncodings) != 2 || iocEncodings[0].dir3 == iocEncodings[1].dir3 {
		t.Error("the picture needs exactly the two encodings, generic and IoctlDir3Bits")
	}
}
