// Package arch is the one table of the Linux architectures the epoll
// package supports: how each is run in tests (natively or under which
// qemu-user), what Debian calls it and which of its kernels boots in
// scripts/kernel-test.sh, and the kernel's struct epoll_event layout there.
//
// The tests, the inspector (cmd/epollinspect) and, through
// internal/arch/archtable, the shell scripts read it; adding an
// architecture is one entry here plus its sys_linux_*.go file. The root
// package does not import it (it stays standard library only and
// vendorable); its build constraints are checked against this table by
// this package's tests instead.
//
// The layouts are written down from the kernel headers and each C ABI, not
// computed from epoll.Event, so that Event and the bytes the kernel writes
// can be checked against them.
//
// Adding an architecture: its entry here and its sys_linux_<arch>.go. The
// tests then fail, naming the line to write, in the few places that cannot
// read this table: 0_unsupported.go's build constraint and message (the
// root package imports nothing), the list in the package comment (doc.go), and
// the rows of README's and LAYOUT.md's tables, which are prose for readers.
// LAYOUT.md's appendix, doc/layout/quotes.md, also needs a marker for the
// arch's quote (go test -update on that arch fills it in), and LAYOUT.md a
// row in its busy-poll table. A 12-byte layout
// would also need event_packed.go's build constraint, a layout no arch has
// yet a picture (cmd/epollinspect's pictures), and a real kernel to boot
// its machine settings in scripts/kernel-test.sh.
package arch

import (
	"encoding/binary"
	"slices"
)

// Arch is one supported GOARCH (with GOOS=linux).
type Arch struct {
	GOARCH string

	// Kernel is the Linux source tree's name for the architecture
	// (arch/<Kernel>): where its ABI quirks are declared. On "mips",
	// sigset_t has 128 signals and rt_sigprocmask's SIG_BLOCK is 1, not 0.
	Kernel string

	// QemuUser is the name qemu-user gives the architecture
	// (qemu-<QemuUser>-static), or "" where tests run natively: amd64,
	// and 386, which the x86-64 kernel runs itself (and qemu-i386 7.2
	// crashes every Go binary).
	QemuUser string

	// Debian is Debian's name for the architecture (dpkg --print-architecture),
	// and KernelFlavour the linux-image-<flavour> that scripts/kernel-test.sh
	// boots under qemu-system, or "" if Debian has no kernel for this arch.
	Debian, KernelFlavour string

	// KernelSuites are the Debian suites, space-separated, whose
	// KernelFlavour kernel kernel-test.sh boots: bookworm (Linux 6.1),
	// trixie (Linux 6.12), or both.
	KernelSuites string

	// Size and DataOffset are sizeof(struct epoll_event) and
	// offsetof(data); BigEndian is the byte order of both fields. Why
	// says what gives that size, for LAYOUT.md's table.
	Size, DataOffset int
	BigEndian        bool
	Why              string

	// GenericSyscalls is true where the kernel uses the generic system
	// call table (include/uapi/asm-generic/unistd.h), which has no
	// epoll_wait and no epoll_create: only epoll_pwait and epoll_create1.
	GenericSyscalls bool

	// StdlibEPOLLETNegative is true where the syscall package declares
	// EPOLLET as -0x80000000 (an untyped constant that does not fit a
	// uint32) rather than 0x80000000.
	StdlibEPOLLETNegative bool

	// IoctlDir3Bits is true where the ioctl request encoding (_IOC) has 13
	// size bits and then 3 direction bits at bit 29 with write = 4
	// (arch/mips and arch/powerpc uapi/asm/ioctl.h), not the generic 14
	// size bits and 2 direction bits at bit 30 with write = 1. Read = 2 on
	// both. It decides the busy-poll request numbers (LAYOUT.md).
	IoctlDir3Bits bool
}

// All is every supported architecture, in LAYOUT.md's order.
var All = []Arch{
	{GOARCH: "amd64", Kernel: "x86", Debian: "amd64",
		Size: 12, DataOffset: 4, Why: "packed on x86-64", StdlibEPOLLETNegative: true},
	{GOARCH: "386", Kernel: "x86", Debian: "i386", KernelFlavour: "686", KernelSuites: "bookworm",
		Size: 12, DataOffset: 4, Why: "i386 aligns `__u64` to 4", StdlibEPOLLETNegative: true},
	{GOARCH: "arm", Kernel: "arm", QemuUser: "arm", Debian: "armhf", KernelFlavour: "armmp-lpae", KernelSuites: "bookworm trixie",
		Size: 16, DataOffset: 8, Why: "EABI aligns `__u64` to 8", StdlibEPOLLETNegative: true},
	{GOARCH: "arm64", Kernel: "arm64", QemuUser: "aarch64", Debian: "arm64", KernelFlavour: "arm64", KernelSuites: "bookworm trixie",
		Size: 16, DataOffset: 8, Why: "natural alignment", GenericSyscalls: true},
	{GOARCH: "loong64", Kernel: "loongarch", QemuUser: "loongarch64", Debian: "loong64",
		Size: 16, DataOffset: 8, Why: "natural alignment", GenericSyscalls: true},
	{GOARCH: "mips", Kernel: "mips", QemuUser: "mips", Debian: "mips",
		Size: 16, DataOffset: 8, BigEndian: true, Why: "o32 aligns `__u64` to 8", IoctlDir3Bits: true},
	{GOARCH: "mipsle", Kernel: "mips", QemuUser: "mipsel", Debian: "mipsel", KernelFlavour: "4kc-malta", KernelSuites: "bookworm",
		Size: 16, DataOffset: 8, Why: "o32 aligns `__u64` to 8", IoctlDir3Bits: true},
	{GOARCH: "mips64", Kernel: "mips", QemuUser: "mips64", Debian: "mips64",
		Size: 16, DataOffset: 8, BigEndian: true, Why: "natural alignment", IoctlDir3Bits: true},
	{GOARCH: "mips64le", Kernel: "mips", QemuUser: "mips64el", Debian: "mips64el", KernelFlavour: "5kc-malta", KernelSuites: "bookworm",
		Size: 16, DataOffset: 8, Why: "natural alignment", IoctlDir3Bits: true},
	{GOARCH: "ppc64", Kernel: "powerpc", QemuUser: "ppc64", Debian: "ppc64",
		Size: 16, DataOffset: 8, BigEndian: true, Why: "natural alignment", IoctlDir3Bits: true},
	{GOARCH: "ppc64le", Kernel: "powerpc", QemuUser: "ppc64le", Debian: "ppc64el", KernelFlavour: "powerpc64le", KernelSuites: "bookworm trixie",
		Size: 16, DataOffset: 8, Why: "natural alignment", IoctlDir3Bits: true},
	{GOARCH: "riscv64", Kernel: "riscv", QemuUser: "riscv64", Debian: "riscv64", KernelFlavour: "riscv64", KernelSuites: "trixie",
		Size: 16, DataOffset: 8, Why: "natural alignment", GenericSyscalls: true},
	{GOARCH: "s390x", Kernel: "s390", QemuUser: "s390x", Debian: "s390x", KernelFlavour: "s390x", KernelSuites: "bookworm trixie",
		Size: 16, DataOffset: 8, BigEndian: true, Why: "natural alignment"},
}

// Lookup returns the entry for goarch.
func Lookup(goarch string) (Arch, bool) {
	i := slices.IndexFunc(All, func(a Arch) bool { return a.GOARCH == goarch })
	if i < 0 {
		return Arch{}, false
	}
	return All[i], true
}

// Names returns every GOARCH in All, in its order.
func Names() []string {
	names := make([]string, len(All))
	for i, a := range All {
		names[i] = a.GOARCH
	}
	return names
}

// Order is the byte order of the event bits and of data.
func (a Arch) Order() binary.ByteOrder {
	if a.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// Endian is "big" or "little".
func (a Arch) Endian() string {
	if a.BigEndian {
		return "big"
	}
	return "little"
}

// Qemu is the qemu-user binary that runs this arch's programs, or "" where
// they run natively.
func (a Arch) Qemu() string {
	if a.QemuUser == "" {
		return ""
	}
	return "qemu-" + a.QemuUser + "-static"
}

// Layout is the part of the entry that an Event must match.
type Layout struct {
	Size, DataOffset int
	BigEndian        bool
}

// Layout returns the entry's struct epoll_event layout.
func (a Arch) Layout() Layout { return Layout{a.Size, a.DataOffset, a.BigEndian} }
