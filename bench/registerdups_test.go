package bench

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRegisterDups proves what BenchmarkWaitIdle relies on where
// RLIMIT_NOFILE cannot be raised: registrations of dups that are closed
// again stay in the interest list (the kernel lists them in fdinfo) and stay
// idle, while the one ready fd is still reported.
func TestRegisterDups(t *testing.T) {
	const n, perFile = 2500, 1000
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(epfd)
	register := func(fd int) error {
		ev := unix.EpollEvent{Events: readable, Fd: int32(fd)}
		return unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev)
	}
	ready := eventfds(t, 1, true)[0]
	if err := register(ready); err != nil {
		t.Fatal(err)
	}
	registerDups(t, n, perFile, register)

	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(epfd))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(info), "\ntfd:"); got != n+1 {
		t.Errorf("fdinfo lists %d registrations, want %d", got, n+1)
	}
	events := make([]unix.EpollEvent, 8)
	got, err := unix.EpollWait(epfd, events, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got != 1 || events[0].Fd != int32(ready) {
		t.Errorf("Wait reported %d events (first fd %d), want only the ready fd %d", got, events[0].Fd, ready)
	}
}
