package bench

import (
	"errors"
	"go/ast"
	"go/build"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rawpoll/epoll/internal/arch"
)

// The busy-poll request numbers and the ioctl system call number the root
// package derives for each arch (busypoll.go from sys_linux_*.go) must be
// golang.org/x/sys/unix's, which are generated from the kernel headers with
// each arch's C compiler. Both packages' constants are evaluated from
// source for every arch in one run, so a wrong encoding for mips or powerpc
// fails here on amd64, not only on a real ppc64le kernel.
func TestBusyPollNumbersMatchXSys(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "golang.org/x/sys/unix", "github.com/rawpoll/epoll").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dirs := strings.Fields(string(out))
	if len(dirs) != 2 {
		t.Fatalf("go list printed %q", out)
	}
	unixDir, rootDir := dirs[0], dirs[1]
	doc := layoutTable(t, filepath.Join(rootDir, "LAYOUT.md"))
	for _, a := range arch.All {
		xsys := constants(t, unixDir, a.GOARCH, "EPIOCSPARAMS", "EPIOCGPARAMS", "SYS_IOCTL")
		ours := constants(t, rootDir, a.GOARCH, "epiocSParams", "epiocGParams", "sysIoctl")
		for i, name := range []string{"EPIOCSPARAMS", "EPIOCGPARAMS", "SYS_IOCTL"} {
			if ours[i] != xsys[i] {
				t.Errorf("linux/%s %s: ours %#x, x/sys %#x", a.GOARCH, name, ours[i], xsys[i])
			}
		}
		t.Logf("linux/%s: EPIOCSPARAMS %#x, EPIOCGPARAMS %#x, ioctl %d", a.GOARCH, ours[0], ours[1], ours[2])
		if row, ok := doc[a.GOARCH]; !ok {
			t.Errorf("LAYOUT.md's busy-poll table has no row for %s", a.GOARCH)
		} else if row != [3]uint64(ours) {
			t.Errorf("LAYOUT.md's busy-poll table says %#x for %s, the code %#x", row, a.GOARCH, ours)
		}
		delete(doc, a.GOARCH)
	}
	for goarch := range doc {
		t.Errorf("LAYOUT.md's busy-poll table names %s, which internal/arch lacks", goarch)
	}
}

// layoutTable reads LAYOUT.md's table of busy-poll numbers: per GOARCH,
// EPIOCSPARAMS, EPIOCGPARAMS and the ioctl system call number.
func layoutTable(t *testing.T, path string) map[string][3]uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| ((?:`\\w+`(?:, )?)+) \\| [^|]+ \\| `(0x[0-9a-f]+)` \\| `(0x[0-9a-f]+)` \\| (\\d+) \\|$")
	table := make(map[string][3]uint64)
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		var v [3]uint64
		for i := range v {
			if v[i], err = strconv.ParseUint(m[2+i], 0, 64); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range strings.Split(m[1], ", ") {
			name = strings.Trim(name, "`")
			if _, dup := table[name]; dup {
				t.Errorf("LAYOUT.md's busy-poll table names %s twice", name)
			}
			table[name] = v
		}
	}
	if len(table) == 0 {
		t.Fatalf("%s has no busy-poll table", path)
	}
	return table
}

// constants type-checks the package in dir as built for linux/goarch and
// returns the values of the named integer constants. Imports are not
// resolved: the constants depend on none, and the errors that unresolved
// imports cause elsewhere in the package are ignored.
func constants(t *testing.T, dir, goarch string, names ...string) []uint64 {
	t.Helper()
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = "linux", goarch, false
	pkg, err := ctx.ImportDir(dir, 0)
	if err != nil {
		t.Fatalf("linux/%s %s: %v", goarch, dir, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	conf := types.Config{
		Importer: noImports{},
		Sizes:    types.SizesFor("gc", goarch),
		Error:    func(error) {},
	}
	checked, _ := conf.Check(pkg.ImportPath, fset, files, nil)
	values := make([]uint64, len(names))
	for i, name := range names {
		c, ok := checked.Scope().Lookup(name).(*types.Const)
		if !ok {
			t.Fatalf("linux/%s %s: no constant %s", goarch, pkg.ImportPath, name)
		}
		v, exact := constant.Uint64Val(constant.ToInt(c.Val()))
		if !exact {
			t.Fatalf("linux/%s %s: %s = %v is not a uint64", goarch, pkg.ImportPath, name, c.Val())
		}
		values[i] = v
	}
	return values
}

type noImports struct{}

func (noImports) Import(string) (*types.Package, error) { return nil, errors.New("not resolved") }

var _ types.Importer = noImports{}
