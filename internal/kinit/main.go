//go:build linux

// Command kinit is the /init of the initramfs that scripts/kernel-test.sh
// boots under qemu-system-<arch>, so that the test binaries run on the real
// kernel of that architecture instead of qemu-user's translation of it.
//
// It mounts /proc, /sys, /dev, /dev/pts and a tmpfs /tmp, brings up the
// loopback interface, then runs each test binary listed in /kinit.tests, in
// its own directory (its package's, in the copy of the module the runner
// packed), with the flags in /kinit.args and the environment in /kinit.env,
// one entry a line. It prints a PASS or FAIL line per binary, with its time
// and peak RSS, and a final line the runner parses:
//
//	KINIT RESULT kernel=<uname -r> machine=<uname -m> binaries=N passed=N failed=N
//
// and powers the machine off, or restarts it if /kinit.halt says "restart"
// (qemu runs with -no-reboot, so that ends it too, on machines whose power
// off qemu does not act on). It refuses to run as anything but pid 1.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	if os.Getpid() != 1 {
		// Powering off is the last thing it does: never on a real machine.
		fmt.Fprintln(os.Stderr, "kinit: must run as pid 1 of a test VM (see scripts/kernel-test.sh)")
		os.Exit(2)
	}
	passed, failed, total := 0, 0, 0
	release, machine := uname()
	if err := setup(); err != nil {
		fmt.Println("kinit: setup:", err)
		failed++ // counted so that the summary cannot read as a pass
	} else {
		fmt.Printf("KINIT START kernel=%s machine=%s goarch=%s cpus=%d\n", release, machine, runtime.GOARCH, runtime.NumCPU())
		binaries := lines("/kinit.tests")
		args := lines("/kinit.args")
		env := append(os.Environ(), lines("/kinit.env")...)
		for _, bin := range binaries {
			total++
			if run(bin, args, env) {
				passed++
			} else {
				failed++
			}
		}
	}
	fmt.Printf("KINIT RESULT kernel=%s machine=%s binaries=%d passed=%d failed=%d\n", release, machine, total, passed, failed)
	halt(lines("/kinit.halt"))
}

// setup gives the tests the file systems and network a booted system has.
func setup() error {
	mounts := []struct{ fstype, dir string }{
		{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"}, {"devpts", "/dev/pts"}, {"tmpfs", "/tmp"},
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.dir, 0o750); err != nil { // mount points: the mount sets the mode seen
			return err
		}
		if err := syscall.Mount(m.fstype, m.dir, m.fstype, 0, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.dir, err)
		}
	}
	// The kernel opened the initramfs's console for us, if it had one;
	// devtmpfs always does, so take it from there.
	if fd, err := syscall.Open("/dev/console", syscall.O_RDWR, 0); err == nil {
		for i := 0; i < 3; i++ {
			_ = syscall.Dup3(fd, i, 0) // if it fails, there is no console to say so on
		}
		if fd > 2 {
			syscall.Close(fd)
		}
	}
	return loopbackUp()
}

// loopbackUp sets IFF_UP on lo, which starts down: tests dial 127.0.0.1.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer syscall.Close(fd)
	// struct ifreq: a 16-byte name, then a union whose first member is
	// the short ifr_flags; 40 bytes covers its size on every architecture.
	var ifr [40]byte
	copy(ifr[:], "lo")
	flags := (*uint16)(unsafe.Pointer(&ifr[syscall.IFNAMSIZ]))
	for _, req := range []uintptr{syscall.SIOCGIFFLAGS, syscall.SIOCSIFFLAGS} {
		if req == syscall.SIOCSIFFLAGS {
			*flags |= syscall.IFF_UP
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(&ifr[0]))); errno != 0 {
			return fmt.Errorf("bring up lo: ioctl %#x: %w", req, errno)
		}
	}
	return nil
}

// run runs one test binary and reports whether it passed.
func run(bin string, args, env []string) bool {
	name := filepath.Base(bin)
	fmt.Printf("KINIT RUN %s %s\n", name, strings.Join(args, " "))
	cmd := exec.Command(bin, args...) //nolint:gosec // G204: the test binaries this initramfs was built with
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start).Round(time.Millisecond)
	// The guest's memory is small (256 MiB on malta): say how much each
	// binary took at its peak, from wait4's rusage (ru_maxrss is in KiB).
	rss := "peak RSS unknown"
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = fmt.Sprintf("peak RSS %d KiB", ru.Maxrss)
		}
	}
	if err != nil {
		fmt.Printf("KINIT FAIL %s: %v (%v, %s)\n", name, err, took, rss)
		return false
	}
	fmt.Printf("KINIT PASS %s (%v, %s)\n", name, took, rss)
	return true
}

// lines returns the non-empty lines of a file, or nil if it does not exist.
func lines(path string) []string {
	b, err := os.ReadFile(path) //nolint:gosec // G304: files the initramfs was built with
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func uname() (release, machine string) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "unknown", "unknown"
	}
	return cstring(u.Release[:]), cstring(u.Machine[:])
}

// cstring converts a NUL-terminated Utsname field, whose element type is
// int8 on some architectures and uint8 on others.
func cstring[T int8 | uint8](field []T) string {
	b := make([]byte, 0, len(field))
	for _, c := range field {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// halt ends the VM. If the chosen call fails, the other is tried, and if
// that fails too, init exits: the kernel panics and, with panic=-1 and
// qemu's -no-reboot, that ends the VM as well.
func halt(how []string) {
	syscall.Sync()
	cmds := []int{syscall.LINUX_REBOOT_CMD_POWER_OFF, syscall.LINUX_REBOOT_CMD_RESTART}
	if len(how) > 0 && how[0] == "restart" {
		cmds[0], cmds[1] = cmds[1], cmds[0]
	}
	for _, cmd := range cmds {
		err := syscall.Reboot(cmd)
		fmt.Printf("kinit: reboot(%#x): %v\n", cmd, err)
	}
}
