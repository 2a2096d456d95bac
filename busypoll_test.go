package epoll

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/rawpoll/epoll/internal/arch"
)

// threeDirBits reports whether this arch's _IOC has 3 direction bits at bit
// 29 with write = 4, by internal/arch, written down from the kernel headers.
func threeDirBits(t *testing.T) bool {
	t.Helper()
	a, ok := arch.Lookup(runtime.GOARCH)
	if !ok {
		t.Fatalf("no entry in internal/arch for %s", runtime.GOARCH)
	}
	return a.IoctlDir3Bits
}

// The request numbers as the issue quotes them from real kernels; the
// bench module also checks them against golang.org/x/sys/unix.
func TestBusyPollRequestNumbers(t *testing.T) {
	wantS, wantG := uintptr(0x40088a01), uintptr(0x80088a02)
	if threeDirBits(t) {
		wantS, wantG = 0x80088a01, 0x40088a02
	}
	if epiocSParams != wantS || epiocGParams != wantG {
		t.Errorf("EPIOCSPARAMS, EPIOCGPARAMS = %#x, %#x on %s; want %#x, %#x", uintptr(epiocSParams), uintptr(epiocGParams), runtime.GOARCH, wantS, wantG)
	}
	// Decoded with the kernel's _IOC_* macros, they say what they are.
	for _, c := range []struct {
		name   string
		req    uintptr
		dir    uintptr
		number uintptr
	}{{"EPIOCSPARAMS", epiocSParams, iocWrite, 1}, {"EPIOCGPARAMS", epiocGParams, iocRead, 2}} {
		size := c.req >> 16 & (1<<iocSizeBits - 1)
		if dir := c.req >> iocDirShift; dir != c.dir || size != unsafe.Sizeof(epollParams{}) || c.req>>8&0xff != 0x8a || c.req&0xff != c.number {
			t.Errorf("%s %#x decodes as dir %d size %d type %#x nr %d", c.name, c.req, dir, size, c.req>>8&0xff, c.req&0xff)
		}
	}
	if sysIoctl != syscall.SYS_IOCTL {
		t.Errorf("sysIoctl = %d, the syscall package's SYS_IOCTL = %d", sysIoctl, syscall.SYS_IOCTL)
	}
}

// kernelVersion parses the major and minor number of the running kernel.
func kernelVersion(t *testing.T) (major, minor int) {
	t.Helper()
	rel := kernelRelease()
	parts := strings.SplitN(rel, ".", 3)
	if len(parts) < 2 {
		t.Fatalf("kernel release %q: no major.minor", rel)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		t.Fatalf("kernel release %q: no major.minor", rel)
	}
	return major, minor
}

// busyPollUnsupported checks the answer to the first busy-poll call of a
// test and reports whether busy polling is missing here, so the test can
// stop. Where that is expected it must be exactly ErrBusyPollUnsupported
// with the expected errno: ENOSYS under an emulator (qemu-user does not
// translate the ioctls), ENOTTY natively before Linux 6.9. Natively on 6.9
// or later it must have worked.
func busyPollUnsupported(t *testing.T, err error) bool {
	t.Helper()
	major, minor := kernelVersion(t)
	var want syscall.Errno
	switch {
	case emulator() != "":
		want = syscall.ENOSYS
	case major < 6 || major == 6 && minor < 9:
		want = syscall.ENOTTY
	}
	if want == 0 {
		if err != nil {
			t.Fatalf("busy poll on Linux %s, natively: %v", kernelRelease(), err)
		}
		return false
	}
	if !errors.Is(err, ErrBusyPollUnsupported) || !errors.Is(err, want) {
		t.Fatalf("busy poll on Linux %s (emulator %q): got %v, want ErrBusyPollUnsupported wrapping %v (%d)", kernelRelease(), emulator(), err, want, int(want))
	}
	if !strings.Contains(err.Error(), "not supported") {
		t.Errorf("message %q does not say it is not supported", err)
	}
	t.Logf("busy polling not supported here, as expected (Linux %s, emulator %q): %v", kernelRelease(), emulator(), err)
	return true
}

func getBusyPoll(t *testing.T, p *Poll) BusyPoll {
	t.Helper()
	b, err := p.BusyPoll()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBusyPollRoundTrip(t *testing.T) {
	p := newPoll(t)
	b, err := p.BusyPoll()
	if busyPollUnsupported(t, err) {
		// Set must say the same, with its own op.
		err := p.SetBusyPoll(BusyPoll{Timeout: time.Microsecond})
		if !errors.Is(err, ErrBusyPollUnsupported) {
			t.Errorf("SetBusyPoll: %v, but BusyPoll said not supported", err)
		}
		var opErr *OpError
		if !errors.As(err, &opErr) || opErr.Op != "setbusypoll" || opErr.Fd != p.registry.epfd {
			t.Errorf("SetBusyPoll: %#v, want an OpError naming setbusypoll and the epoll fd %d", opErr, p.registry.epfd)
		}
		return
	}
	if b != (BusyPoll{}) {
		t.Errorf("a new Poll reports %+v, want the zero BusyPoll", b)
	}
	for _, c := range []struct{ set, want BusyPoll }{
		{BusyPoll{Timeout: 50 * time.Microsecond, Budget: 16, Prefer: true}, BusyPoll{Timeout: 50 * time.Microsecond, Budget: 16, Prefer: true}},
		{BusyPoll{Timeout: time.Nanosecond}, BusyPoll{Timeout: time.Microsecond}},            // rounded up, not to 0
		{BusyPoll{Timeout: 1500 * time.Nanosecond}, BusyPoll{Timeout: 2 * time.Microsecond}}, // rounded up
		{BusyPoll{Timeout: maxBusyPollUsecs * time.Microsecond, Budget: napiPollWeight}, BusyPoll{Timeout: maxBusyPollUsecs * time.Microsecond, Budget: napiPollWeight}},
		{BusyPoll{Prefer: true}, BusyPoll{Prefer: true}},
		{BusyPoll{}, BusyPoll{}},
	} {
		if err := p.SetBusyPoll(c.set); err != nil {
			t.Fatalf("SetBusyPoll(%+v): %v", c.set, err)
		}
		if got := getBusyPoll(t, p); got != c.want {
			t.Errorf("SetBusyPoll(%+v), then BusyPoll() = %+v, want %+v", c.set, got, c.want)
		}
	}
	// The settings belong to one instance.
	if err := p.SetBusyPoll(BusyPoll{Timeout: 7 * time.Microsecond}); err != nil {
		t.Fatal(err)
	}
	if got := getBusyPoll(t, newPoll(t)); got != (BusyPoll{}) {
		t.Errorf("another Poll reports %+v, want the zero BusyPoll", got)
	}
}

// Values the kernel would refuse or truncate are refused before the call,
// saying which limit they hit; the Poll's settings stay as they were.
func TestBusyPollValidation(t *testing.T) {
	p := newPoll(t)
	fd := p.registry.epfd
	for _, c := range []struct {
		b    BusyPoll
		says string
	}{
		{BusyPoll{Timeout: -time.Nanosecond}, "Timeout -1ns is negative"},
		{BusyPoll{Timeout: Forever}, "above the kernel's limit of 2147483647µs"}, // Forever is MaxInt64
		{BusyPoll{Timeout: maxBusyPollUsecs*time.Microsecond + time.Nanosecond}, "is 2147483648µs, above the kernel's limit of 2147483647µs"},
		{BusyPoll{Timeout: -1 << 63}, "Timeout -2562047h47m16.854775808s is negative"},
		{BusyPoll{Budget: -1}, "Budget -1 is negative"},
		{BusyPoll{Budget: 65536}, "Budget 65536 is above 65535, the most the kernel's 16-bit field holds"},
	} {
		checkOpError(t, c.says, p.SetBusyPoll(c.b), "setbusypoll", fd, syscall.EINVAL, c.says)
	}
	// Nothing reached the kernel: it still has the zero settings, or does
	// not know the ioctls at all.
	b, err := p.BusyPoll()
	if !busyPollUnsupported(t, err) && b != (BusyPoll{}) {
		t.Errorf("after refused values BusyPoll() = %+v, want the zero BusyPoll", b)
	}
}

// rawSetParams is EPIOCSPARAMS without SetBusyPoll's checks, to see what the
// kernel itself refuses.
func rawSetParams(p *Poll, req uintptr, params epollParams) syscall.Errno {
	_, _, errno := syscall.RawSyscall(sysIoctl, uintptr(p.registry.epfd), req, uintptr(unsafe.Pointer(&params)))
	return errno
}

// What the kernel refuses with EINVAL (fs/eventpoll.c ep_eventpoll_bp_ioctl
// and ep_eventpoll_ioctl), through the raw ioctl, since SetBusyPoll cannot
// express or refuses these values first; a refusal leaves the settings as
// they were.
func TestBusyPollKernelRefusals(t *testing.T) {
	p := newPoll(t)
	before := BusyPoll{Timeout: 3 * time.Microsecond, Budget: 5}
	if busyPollUnsupported(t, p.SetBusyPoll(before)) {
		return
	}
	// EPIOCSPARAMS as the other encoding spells it: what a port that got
	// the encoding wrong would send.
	var other uintptr
	if threeDirBits(t) {
		other = epiocSParams&^(7<<29) | 1<<30
	} else {
		other = epiocSParams&^(3<<30) | 4<<29
	}
	for _, c := range []struct {
		name   string
		req    uintptr
		params epollParams
	}{
		{"usecs above S32_MAX", epiocSParams, epollParams{usecs: maxBusyPollUsecs + 1}},
		{"usecs 2^32-1", epiocSParams, epollParams{usecs: 1<<32 - 1}},
		{"prefer 2", epiocSParams, epollParams{prefer: 2}},
		{"non-zero pad", epiocSParams, epollParams{pad: 1}},
		{"unknown request number 3", epiocSParams&^0xff | 3, epollParams{}},
		{"the other arches' encoding " + strconv.FormatUint(uint64(other), 16), other, epollParams{}},
	} {
		if errno := rawSetParams(p, c.req, c.params); errno != syscall.EINVAL {
			t.Errorf("%s: ioctl %#x: %v (%d), want EINVAL", c.name, c.req, errno, int(errno))
		}
	}
	if got := getBusyPoll(t, p); got != before {
		t.Errorf("after refused values BusyPoll() = %+v, want %+v unchanged", got, before)
	}
	// The kernel's EINVAL is explained like the others.
	err := p.registry.busyPollIoctl("setbusypoll", epiocSParams, &epollParams{prefer: 2})
	checkOpError(t, "prefer 2 through busyPollIoctl", err, "setbusypoll", p.registry.epfd, syscall.EINVAL, "kernel refused")
}

const busyPollChildEnv = "EPOLL_TEST_BUSYPOLL_USERNS_CHILD"

// hasCapNetAdmin reports whether CAP_NET_ADMIN (bit 12) is in the effective
// set, in this process's own user namespace.
func hasCapNetAdmin(t *testing.T) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				t.Fatalf("CapEff %q: %v", hex, err)
			}
			return caps&(1<<12) != 0
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return false
}

// inInitialUserNS reports whether this process is in the initial user
// namespace, whose uid_map maps all 2^32-1 ids onto themselves; the kernel
// checks CAP_NET_ADMIN there (capable()), not in a container's namespace.
func inInitialUserNS(t *testing.T) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b)), " ") == "0 0 4294967295"
}

// A Budget above 64 needs CAP_NET_ADMIN in the initial user namespace:
// root in a new user namespace, with every capability there, still gets
// EPERM. The test runs itself again in such a namespace to show it.
func TestBusyPollBudgetNeedsNetAdmin(t *testing.T) {
	if os.Getenv(busyPollChildEnv) == "1" {
		if os.Getuid() != 0 || !hasCapNetAdmin(t) || inInitialUserNS(t) {
			t.Fatalf("child: uid %d, CAP_NET_ADMIN %v, initial user namespace %v; want root with every capability in a new one", os.Getuid(), hasCapNetAdmin(t), inInitialUserNS(t))
		}
		p := newPoll(t)
		checkOpError(t, "Budget 65 as root in a user namespace", p.SetBusyPoll(BusyPoll{Budget: 65}),
			"setbusypoll", p.registry.epfd, syscall.EPERM, "Budget 65 is above 64, which needs CAP_NET_ADMIN in the initial user namespace")
		if got := getBusyPoll(t, p); got != (BusyPoll{}) {
			t.Errorf("child: after EPERM BusyPoll() = %+v, want the zero BusyPoll", got)
		}
		t.Log("child: uid 0 with CAP_NET_ADMIN in a new user namespace got EPERM")
		return
	}
	p := newPoll(t)
	if busyPollUnsupported(t, p.SetBusyPoll(BusyPoll{Budget: napiPollWeight})) {
		return
	}
	// Here first: with CAP_NET_ADMIN in the initial user namespace (root
	// on the host) 65 is allowed, without it refused.
	err := p.SetBusyPoll(BusyPoll{Budget: 65})
	privileged := hasCapNetAdmin(t) && inInitialUserNS(t)
	if privileged {
		if err != nil {
			t.Fatalf("Budget 65 with CAP_NET_ADMIN: %v", err)
		}
		if got := getBusyPoll(t, p); got.Budget != 65 {
			t.Errorf("Budget 65 with CAP_NET_ADMIN, then BusyPoll() = %+v", got)
		}
	} else {
		checkOpError(t, "Budget 65 without CAP_NET_ADMIN", err, "setbusypoll", p.registry.epfd, syscall.EPERM, "needs CAP_NET_ADMIN")
		if got := getBusyPoll(t, p); got != (BusyPoll{Budget: napiPollWeight}) {
			t.Errorf("after EPERM BusyPoll() = %+v, want Budget 64 unchanged", got)
		}
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestBusyPollBudgetNeedsNetAdmin$", "-test.count=1", "-test.v", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), busyPollChildEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &exitErr) && !privileged:
		// Containers often refuse new user namespaces. Without
		// CAP_NET_ADMIN here the EPERM above was already root's or a
		// user's; say so rather than pass silently.
		t.Logf("no child in a new user namespace (%v); the EPERM above, without CAP_NET_ADMIN, is the proof here", err)
	case err != nil:
		t.Fatalf("child in a new user namespace: %v\n%s", err, out)
	case !strings.Contains(string(out), "child: uid 0 with CAP_NET_ADMIN in a new user namespace got EPERM"):
		t.Fatalf("child in a new user namespace did not report its EPERM:\n%s", out)
	default:
		t.Log("root in a new user namespace got EPERM for Budget 65")
	}
}

func TestBusyPollClosed(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	fd := p.registry.epfd
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p  *Poll
		fd int
	}{{p, fd}, {&Poll{}, -1}} { // a zero Poll has no fd: not fd 0
		err := c.p.SetBusyPoll(BusyPoll{Timeout: time.Microsecond})
		var opErr *OpError
		if !errors.Is(err, ErrClosed) || !errors.As(err, &opErr) || opErr.Op != "setbusypoll" || opErr.Fd != c.fd {
			t.Errorf("SetBusyPoll on a closed Poll: %v, want ErrClosed for setbusypoll fd %d", err, c.fd)
		}
		b, err := c.p.BusyPoll()
		if !errors.Is(err, ErrClosed) || !errors.As(err, &opErr) || opErr.Op != "busypoll" || opErr.Fd != c.fd || b != (BusyPoll{}) {
			t.Errorf("BusyPoll on a closed Poll: %+v, %v, want ErrClosed for busypoll fd %d", b, err, c.fd)
		}
	}
}

// The sentinel matches exactly the three "not supported" errnos, and every
// error still wraps its errno. This is what the environments above cannot
// all show: EOPNOTSUPP needs a kernel built without busy polling.
func TestBusyPollUnsupportedErrnos(t *testing.T) {
	for _, c := range []struct {
		errno       syscall.Errno
		unsupported bool
		says        string
	}{
		{syscall.ENOTTY, true, "Linux 6.9"},
		{syscall.EOPNOTSUPP, true, "CONFIG_NET_RX_BUSY_POLL"},
		{syscall.ENOSYS, true, "qemu-user"},
		{syscall.EINVAL, false, "kernel refused"},
		{syscall.EFAULT, false, ""},
	} {
		err := error(&OpError{Op: "busypoll", Fd: 3, Err: &busyPollError{c.errno, busyPollReason(c.errno, nil)}})
		if errors.Is(err, ErrBusyPollUnsupported) != c.unsupported {
			t.Errorf("%v: errors.Is(err, ErrBusyPollUnsupported) = %v", c.errno, !c.unsupported)
		}
		checkOpError(t, c.errno.Error(), err, "busypoll", 3, c.errno, c.says)
	}
}
