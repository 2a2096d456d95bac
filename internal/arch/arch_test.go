package arch

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	root    = "../.."            // the epoll package's directory
	refusal = "0_unsupported.go" // built where the package is not supported
)

// The table's own consistency: one entry per GOARCH, the only two layouts
// Linux has, and qemu-user wherever the tests cannot run natively.
func TestTable(t *testing.T) {
	seen := make(map[string]bool)
	for _, a := range All {
		if seen[a.GOARCH] {
			t.Errorf("%s is in the table twice", a.GOARCH)
		}
		seen[a.GOARCH] = true
		if l := a.Layout(); l.Size != 12 && l.Size != 16 || l.DataOffset != l.Size-8 {
			t.Errorf("%s: %d bytes with data at %d: data is the last 8 bytes of a 12- or 16-byte struct", a.GOARCH, l.Size, l.DataOffset)
		}
		if a.Debian == "" || a.Why == "" {
			t.Errorf("%s: Debian name or Why missing", a.GOARCH)
		}
		if dir3 := a.Kernel == "mips" || a.Kernel == "powerpc"; dir3 != a.IoctlDir3Bits {
			t.Errorf("%s: IoctlDir3Bits %v, but arch/%s's _IOC is the %v one", a.GOARCH, a.IoctlDir3Bits, a.Kernel, map[bool]string{true: "mips and powerpc", false: "generic"}[dir3])
		}
		if native := a.GOARCH == "amd64" || a.GOARCH == "386"; native != (a.QemuUser == "") {
			t.Errorf("%s: QemuUser %q: only amd64 and 386 run natively on the x86-64 test machines", a.GOARCH, a.QemuUser)
		}
	}
}

// goFiles are the root package's non-test Go files.
func goFiles(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(root, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, n := range names {
		if !strings.HasSuffix(n, "_test.go") {
			files = append(files, filepath.Base(n))
		}
	}
	if !slices.Contains(files, refusal) {
		t.Fatalf("no 0_unsupported.go among the root package's files %v", files)
	}
	return files
}

// built returns the files of the root package that go build would compile
// for goos/goarch, as go/build decides from names and build constraints
// (android satisfies the linux tag, as in the go command).
func built(t *testing.T, files []string, goos, goarch string) []string {
	t.Helper()
	ctxt := build.Default
	ctxt.GOOS, ctxt.GOARCH, ctxt.CgoEnabled = goos, goarch, false
	var in []string
	for _, name := range files {
		ok, err := ctxt.MatchFile(root, name)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			in = append(in, name)
		}
	}
	return in
}

// Every platform the go command knows: the table's Linux arches build with
// exactly one numbers file and one Event file and without 0_unsupported.go;
// everything else, android included, builds 0_unsupported.go, whose constant
// stops the compiler (scripts/qemu-test.sh makes two real builds to see
// that message come first). A Linux GOARCH that a new Go release adds and
// the table lacks must be refused too; the test names it, so it can be
// added.
func TestPlatforms(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test needs the go command for `go tool dist list`: %v", err)
	}
	out, err := exec.Command(goCmd, "tool", "dist", "list").Output()
	if err != nil {
		t.Fatalf("go tool dist list: %v", err)
	}
	files := goFiles(t)
	var linux, refused int
	for _, p := range strings.Fields(string(out)) {
		goos, goarch, _ := strings.Cut(p, "/")
		in := built(t, files, goos, goarch)
		unsupported := slices.Contains(in, refusal)
		_, known := Lookup(goarch)
		switch {
		case goos == "linux" && known:
			linux++
			var sys, event []string
			for _, f := range in {
				if strings.HasPrefix(f, "sys_linux_") {
					sys = append(sys, f)
				}
				if strings.HasPrefix(f, "event_") {
					event = append(event, f)
				}
			}
			if unsupported || len(sys) != 1 || len(event) != 1 {
				t.Errorf("%s: builds %v: want one sys_linux_*.go, one event_*.go and no 0_unsupported.go", p, in)
			}
		case !unsupported:
			t.Errorf("%s: builds %v without 0_unsupported.go: it must be refused at compile time", p, in)
		case goos == "linux":
			refused++
			t.Logf("%s: refused; it is a Linux GOARCH that internal/arch lacks: add it there, with its sys_linux_%s.go", p, goarch)
		default:
			refused++
		}
	}
	if linux != len(All) {
		t.Errorf("go tool dist list has %d of the table's %d arches", linux, len(All))
	}
	t.Logf("%d linux arches build; %d other platforms are refused", linux, refused)
}

// On a refused platform the first error must be the refusal's message, not
// an undefined per-arch name elsewhere: go/types checks package-level
// declarations in the order the compiler does (file by file, in name
// order), and type-checks the standard library from source for the
// platform, so this takes about a second per platform instead of a build
// that compiles the standard library (scripts/qemu-test.sh still makes two).
// Another OS, and android, which has the linux tag.
func TestRefusedBuildStopsAtTheMessage(t *testing.T) {
	files := goFiles(t)
	for _, p := range [][2]string{{"darwin", "arm64"}, {"android", "arm64"}} {
		goos, goarch := p[0], p[1]
		saved := build.Default // the source importer reads build.Default
		build.Default.GOOS, build.Default.GOARCH, build.Default.CgoEnabled = goos, goarch, false
		fset := token.NewFileSet()
		var parsed []*ast.File
		for _, name := range built(t, files, goos, goarch) {
			f, err := parser.ParseFile(fset, filepath.Join(root, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			parsed = append(parsed, f)
		}
		var first error
		conf := types.Config{
			Importer: importer.ForCompiler(fset, "source", nil),
			Sizes:    types.SizesFor("gc", goarch),
			Error: func(err error) {
				if first == nil {
					first = err
				}
			},
		}
		_, _ = conf.Check("github.com/rawpoll/epoll", fset, parsed, nil)
		build.Default = saved
		if first == nil || !strings.Contains(first.Error(), "epoll: unsupported platform") {
			t.Errorf("%s/%s: the first error is %v, want the message of %s (a file sorting before it declares something that uses a per-arch name at package level?)", goos, goarch, first, refusal)
		}
	}
}

// listed parses "a, b, c or d" (or "and d") into its names.
func listed(s string) []string {
	s = strings.NewReplacer(" or ", ", ", " and ", ", ", "\n//", "", "\n", " ").Replace(s)
	var names []string
	for _, n := range strings.Split(s, ",") {
		names = append(names, strings.TrimSpace(n))
	}
	slices.Sort(names)
	return names
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The places that must spell the list out, because the root package cannot
// import this one or because they are prose, name exactly the table's arches.
func TestListsInTheRootPackage(t *testing.T) {
	want := Names()
	slices.Sort(want)
	for _, c := range []struct{ file, re string }{
		{refusal, `epoll: unsupported platform: needs GOOS=linux on ([^"]+)"`},
		{"doc.go", `(?s)It builds for GOOS=linux on (.*?)\. For any other platform`},
	} {
		m := regexp.MustCompile(c.re).FindStringSubmatch(readFile(t, filepath.Join(root, c.file)))
		if m == nil {
			t.Errorf("%s: no list of architectures matching %s", c.file, c.re)
			continue
		}
		if got := listed(m[1]); !slices.Equal(got, want) {
			t.Errorf("%s lists %v, internal/arch has %v", c.file, got, want)
		}
	}
	// The build constraint, as a list: TestPlatforms checks what it means;
	// this names the line to write when an arch is added.
	m := regexp.MustCompile(`(?m)^//go:build !linux \|\| android \|\| !\(([^)]*)\)$`).FindStringSubmatch(readFile(t, filepath.Join(root, refusal)))
	line := "//go:build !linux || android || !(" + strings.Join(want, " || ") + ")"
	if m == nil {
		t.Errorf("%s: no build constraint of the form\n%s", refusal, line)
	} else if got := strings.Split(m[1], " || "); !slices.Equal(sorted(got), want) {
		t.Errorf("%s's build constraint lists %v, internal/arch has %v: write\n%s", refusal, got, want, line)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// plainStruct is the size and data offset that Go gives
// struct{ events uint32; data uint64 } on goarch.
func plainStruct(goarch string) (size, off int64) {
	sizes := types.SizesFor("gc", goarch)
	fields := []*types.Var{
		types.NewField(0, nil, "events", types.Typ[types.Uint32], false),
		types.NewField(0, nil, "data", types.Typ[types.Uint64], false),
	}
	s := types.NewStruct(fields, nil)
	return sizes.Sizeof(s), sizes.Offsetsof(fields)[1]
}

// LAYOUT.md's table is this one, and its last column is what Go's gc
// compiler does with the plain struct on each arch (go/types knows its
// sizes for every GOARCH, so no cross-compilation is needed).
func TestLayoutDocTable(t *testing.T) {
	doc := readFile(t, filepath.Join(root, "LAYOUT.md"))
	row := regexp.MustCompile("(?m)^\\| `\\w+` \\| \\d+ \\| \\d+ \\| (little|big) \\| [^|]+ \\| \\d+ / \\d+: (right|wrong) \\|$")
	got := row.FindAllString(doc, -1)
	var want []string
	for _, a := range All {
		size, off := plainStruct(a.GOARCH)
		verdict := "wrong"
		if size == int64(a.Size) && off == int64(a.DataOffset) {
			verdict = "right"
		}
		want = append(want, fmt.Sprintf("| `%s` | %d | %d | %s | %s | %d / %d: %s |", a.GOARCH, a.Size, a.DataOffset, a.Endian(), a.Why, size, off, verdict))
	}
	if !slices.Equal(got, want) {
		t.Errorf("LAYOUT.md's table rows:\n%s\nwant, from internal/arch and go/types:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// README's table of supported architectures names each arch once, with
// its layout.
func TestReadmeTable(t *testing.T) {
	doc := readFile(t, filepath.Join(root, "README.md"))
	row := regexp.MustCompile(`(?m)^\| ([a-z0-9, ]+) \| (\d+) / (\d+)[^|]* \| (little|big) \|`)
	seen := make(map[string]int)
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		for _, name := range strings.Split(m[1], ",") {
			name = strings.TrimSpace(name)
			seen[name]++
			a, ok := Lookup(name)
			if !ok {
				t.Errorf("README lists %s, which internal/arch lacks", name)
				continue
			}
			if got := m[2] + "/" + m[3] + " " + m[4]; got != fmt.Sprintf("%d/%d %s", a.Size, a.DataOffset, a.Endian()) {
				t.Errorf("README says %s is %s", name, got)
			}
		}
	}
	for _, name := range Names() {
		if seen[name] != 1 {
			t.Errorf("README's table of architectures lists %s %d times", name, seen[name])
		}
	}
}
