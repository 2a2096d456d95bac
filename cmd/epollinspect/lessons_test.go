package main

// Tests for the claims in LAYOUT.md that the inspector's output does not
// show. They read the Go toolchain's generated syscall tables and this
// module's source, so they need the go command and the source tree.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rawpoll/epoll/internal/arch"
)

func goCmd(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func goroot(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(goCmd(t, nil, "env", "GOROOT"))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The syscall package's tables are generated from each arch's kernel
// headers. arm64, riscv64 and loong64 have no epoll_wait, only
// epoll_pwait, which every arch has: so the package uses epoll_pwait (with
// a nil signal mask) everywhere, and one code path serves all.
func TestEpollPwaitIsTheOnlyWaitEverywhere(t *testing.T) {
	root := goroot(t)
	for _, a := range arch.All {
		table := readFile(t, filepath.Join(root, "src", "syscall", "zsysnum_linux_"+a.GOARCH+".go"))
		hasWait := regexp.MustCompile(`\bSYS_EPOLL_WAIT\s*=`).MatchString(table)
		if !regexp.MustCompile(`\bSYS_EPOLL_PWAIT\s*=`).MatchString(table) {
			t.Errorf("%s: no SYS_EPOLL_PWAIT in the syscall package", a.GOARCH)
		}
		if want := !a.GenericSyscalls; hasWait != want {
			t.Errorf("%s: SYS_EPOLL_WAIT defined: %v, internal/arch says %v", a.GOARCH, hasWait, want)
		}
	}
	files, err := filepath.Glob("../../sys_linux_*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sys_linux_*.go files: %v", err)
	}
	for _, f := range files {
		src := readFile(t, f)
		if !strings.Contains(src, "sysEpollPwait ") || strings.Contains(src, "sysEpollWait ") {
			t.Errorf("%s should declare sysEpollPwait and no sysEpollWait", f)
		}
	}
}

// The syscall package's EPOLLET is an untyped constant, -0x80000000 on
// amd64, 386 and arm and 0x80000000 elsewhere, so putting it in the uint32
// Events field compiles on arm64 but not on amd64. The package declares its
// own constants instead.
func TestStdlibEPOLLETSign(t *testing.T) {
	root := goroot(t)
	re := regexp.MustCompile(`\bEPOLLET\s*=\s*(-?0x[0-9a-f]+)`)
	for _, a := range arch.All {
		m := re.FindStringSubmatch(readFile(t, filepath.Join(root, "src", "syscall", "zerrors_linux_"+a.GOARCH+".go")))
		if m == nil {
			t.Errorf("%s: no EPOLLET in the syscall package", a.GOARCH)
			continue
		}
		want := "0x80000000"
		if a.StdlibEPOLLETNegative {
			want = "-0x80000000"
		}
		if m[1] != want {
			t.Errorf("%s: syscall.EPOLLET = %s, internal/arch says %s", a.GOARCH, m[1], want)
		}
	}

	// And what that does to code: the same line builds for one and not the other.
	dir := t.TempDir()
	src := "package main\n\nimport \"syscall\"\n\nvar ev = syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLET}\n\nfunc main() { _ = ev }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		cmd := exec.Command("go", "build", "-o", os.DevNull, "main.go")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		overflows := strings.Contains(string(out), "overflows")
		switch {
		case arch == "amd64" && !overflows:
			t.Errorf("amd64: Events: syscall.EPOLLIN | syscall.EPOLLET built (%v), want an overflow error:\n%s", err, out)
		case arch == "arm64" && err != nil:
			t.Errorf("arm64: Events: syscall.EPOLLIN | syscall.EPOLLET did not build: %v\n%s", err, out)
		}
	}
}

// unsafe.Pointer rule 4: a pointer passed to a system call must be
// converted to uintptr in the call expression itself, so the compiler keeps
// the object alive (and, for the stack, in place) until the call returns.
// Every uintptr(unsafe.Pointer(...)) in the package must be an argument of a
// syscall.Syscall*/RawSyscall* call.
func TestSyscallPointersConvertedInTheCall(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("../../*.go")
	if err != nil {
		t.Fatal(err)
	}
	conversions := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		inCall := make(map[ast.Node]bool) // conversions that are arguments of a syscall call
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if isSyscall(call.Fun) {
				for _, arg := range call.Args {
					inCall[arg] = true
				}
			}
			if isPointerToUintptr(call) {
				conversions++
				if !inCall[call] {
					t.Errorf("%s: uintptr(unsafe.Pointer(...)) outside a syscall call expression (unsafe.Pointer rule 4)", fset.Position(call.Pos()))
				}
			}
			return true
		})
	}
	if conversions == 0 {
		t.Fatal("found no uintptr(unsafe.Pointer(...)) at all: the test is not looking at the package")
	}
	t.Logf("%d conversions, all inside syscall calls", conversions)
}

func isSyscall(fun ast.Expr) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "syscall" && strings.Contains(sel.Sel.Name, "Syscall")
}

func isPointerToUintptr(call *ast.CallExpr) bool {
	if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "uintptr" || len(call.Args) != 1 {
		return false
	}
	inner, ok := call.Args[0].(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := inner.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "unsafe" && sel.Sel.Name == "Pointer"
}

// On amd64 the data field sits at offset 4, so it is never 8-byte aligned
// in a []Event. Go has no packed structs, so it is a [8]byte read with
// binary.LittleEndian.Uint64, and the compiler turns that into one
// unaligned MOVQ: no byte-by-byte loads.
func TestPackedTokenIsOneLoad(t *testing.T) {
	asm := goCmd(t, []string{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0"},
		"build", "-o", os.DevNull, "-gcflags=github.com/rawpoll/epoll=-S", "../..")
	start := strings.Index(asm, "github.com/rawpoll/epoll.Event.Token STEXT")
	if start < 0 {
		t.Fatalf("no Event.Token in the assembly listing")
	}
	lines := strings.Split(asm[start:], "\n")
	body := lines[:1]
	for _, line := range lines[1:] {
		if !strings.HasPrefix(line, "\t") {
			break // the next function
		}
		body = append(body, line)
	}
	var loads []string
	for _, line := range body {
		// "\t0x0001 00001 (file:line)\tMOVQ\t..."
		if f := strings.Split(line, "\t"); len(f) >= 3 && strings.HasPrefix(f[2], "MOV") {
			loads = append(loads, f[2])
		}
	}
	if !slices.Equal(loads, []string{"MOVQ"}) {
		t.Errorf("Event.Token on amd64 moves data with %v, want one MOVQ:\n%s", loads, strings.Join(body, "\n"))
	}
}
