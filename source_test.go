package epoll

// Tests that read this package's own source: rules the compiler does not
// enforce. The source tree is beside every test binary that runs them
// (go test, scripts/kernel-test.sh's initramfs, the Dockerfile's test stage).

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rawpoll/epoll/internal/arch"
)

// parsePackage parses the package's non-test files, for every platform.
func parsePackage(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	files := make(map[string]*ast.File)
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	if len(files) == 0 {
		t.Fatal("no Go files here: run the test binary in the package's directory")
	}
	return fset, files
}

// unsafe.Pointer rule 4: a pointer passed to a system call must be
// converted to uintptr in the call expression itself, so the compiler keeps
// the object alive (and, for the stack, in place) until the call returns.
// Every uintptr(unsafe.Pointer(...)) in the package, in the files of every
// architecture, must be an argument of a syscall.Syscall*/RawSyscall* call.
func TestSyscallPointersConvertedInTheCall(t *testing.T) {
	fset, files := parsePackage(t)
	conversions := 0
	for _, f := range files {
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
	if !t.Failed() {
		t.Logf("%d conversions, all inside syscall calls", conversions)
	}
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

// arm64, riscv64 and loong64 have no epoll_wait, so the package waits with
// epoll_pwait (nil signal mask) on every architecture: every numbers file
// declares sysEpollPwait and none declares an epoll_wait number.
func TestEveryArchWaitsWithPwait(t *testing.T) {
	_, files := parsePackage(t)
	numbers := 0
	for name, f := range files {
		if !strings.HasPrefix(name, "sys_linux_") {
			continue
		}
		numbers++
		consts := make(map[string]bool)
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, s := range g.Specs {
					for _, id := range s.(*ast.ValueSpec).Names {
						consts[id.Name] = true
					}
				}
			}
		}
		if !consts["sysEpollPwait"] || consts["sysEpollWait"] {
			t.Errorf("%s should declare sysEpollPwait and no sysEpollWait", name)
		}
	}
	if numbers == 0 {
		t.Fatal("no sys_linux_*.go files")
	}
}

// internal/arch's GenericSyscalls says which arches use the generic system
// call table (include/uapi/asm-generic/unistd.h); on them the package's
// numbers must be that table's (epoll_create1 20, epoll_ctl 21, epoll_pwait
// 22), which no other arch uses.
func TestGenericSyscallTable(t *testing.T) {
	a, ok := arch.Lookup(runtime.GOARCH)
	if !ok {
		t.Fatalf("no entry in internal/arch for %s", runtime.GOARCH)
	}
	generic := sysEpollCreate1 == 20 && sysEpollCtl == 21 && sysEpollPwait == 22
	if generic != a.GenericSyscalls {
		t.Errorf("%s: the package's numbers are the generic table's: %v; internal/arch says GenericSyscalls %v", runtime.GOARCH, generic, a.GenericSyscalls)
	}
}

// The package's system call numbers are its own, declared per arch in
// sys_linux_*.go and checked against the syscall package's by
// TestSyscallNumbersMatchStdlib: none is taken from the syscall package
// (its functions, such as syscall.Open, are another matter).
func TestNoStdlibSyscallNumbers(t *testing.T) {
	fset, files := parsePackage(t)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && strings.HasPrefix(sel.Sel.Name, "SYS_") {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "syscall" {
					t.Errorf("%s: syscall.%s: declare the number in sys_linux_*.go", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
}
