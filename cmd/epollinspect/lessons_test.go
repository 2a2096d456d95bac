package main

// Checks of what LAYOUT.md says about the Go toolchain rather than about
// this module: the syscall package's generated tables in GOROOT and the
// compiler's output. A Go release may change either without this package
// being wrong, so they run only with -toolchain (after a Go upgrade, say):
//
//	go test ./cmd/epollinspect -run . -toolchain
//
// The package's side of each lesson is checked by ordinary tests, named in
// each comment below.

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rawpoll/epoll/internal/arch"
)

var toolchain = flag.Bool("toolchain", false, "also check LAYOUT.md's claims about the Go toolchain (GOROOT's syscall tables, compiler output)")

func needToolchain(t *testing.T) {
	t.Helper()
	if !*toolchain {
		t.Skip("checks the Go toolchain, not this package: run with -toolchain")
	}
}

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

// Proves: the Go toolchain's syscall tables (generated from each arch's
// kernel headers) define SYS_EPOLL_WAIT exactly where internal/arch says
// the arch does not use the generic table, and SYS_EPOLL_PWAIT everywhere.
// So internal/arch's GenericSyscalls agrees with the kernel headers as Go
// records them. The package's side, that it waits with epoll_pwait on every
// arch and uses the generic numbers where GenericSyscalls says, is
// TestEveryArchWaitsWithPwait and TestGenericSyscallTable in the root
// package.
func TestStdlibHasEpollWaitExactlyOffTheGenericTable(t *testing.T) {
	needToolchain(t)
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
}

// Proves: the syscall package's EPOLLET is -0x80000000 on the arches
// internal/arch marks StdlibEPOLLETNegative and 0x80000000 on the others,
// and so syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLET}
// fails to compile for amd64 ("overflows") and compiles for arm64. That is
// why the package declares its own bits. The package's side: its EPOLLET
// is 1<<31 as a uint32 everywhere (TestEventBitsMatchKernel) and
// edge-triggering works (TestEdgeTriggeredReportsOnce), on every arch
// scripts/qemu-test.sh runs; each arch's quote in doc/layout/quotes.md shows the sign
// the inspector saw there (TestLayoutQuote).
func TestStdlibEPOLLETSign(t *testing.T) {
	needToolchain(t)
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
	for _, goarch := range []string{"amd64", "arm64"} {
		cmd := exec.Command("go", "build", "-o", os.DevNull, "main.go")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		overflows := strings.Contains(string(out), "overflows")
		switch {
		case goarch == "amd64" && !overflows:
			t.Errorf("amd64: Events: syscall.EPOLLIN | syscall.EPOLLET built (%v), want an overflow error:\n%s", err, out)
		case goarch == "arm64" && err != nil:
			t.Errorf("arm64: Events: syscall.EPOLLIN | syscall.EPOLLET did not build: %v\n%s", err, out)
		}
	}
}

// Proves: this Go compiler keeps Event.Token on amd64, two
// binary.LittleEndian.Uint32 of the halves of the [8]byte at offset 4, as
// two 4-byte MOVLs, each inside one store of a by-value copy of an Event,
// and does not merge them into one MOVQ spanning both (LAYOUT.md). That is
// a property of the compiler's code generation, not of the package's
// correctness: Token's value at every alignment (data of element i sits at
// 12i+4) is checked by TestTokensRoundTripThroughKernel and FuzzStride.
func TestPackedTokenIsTwoHalves(t *testing.T) {
	needToolchain(t)
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
	if !slices.Equal(loads, []string{"MOVL", "MOVL"}) {
		t.Errorf("Event.Token on amd64 moves data with %v, want two MOVLs:\n%s", loads, strings.Join(body, "\n"))
	}
}
