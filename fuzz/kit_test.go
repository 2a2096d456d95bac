package fuzz_test

import (
	"encoding/binary"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/rawpoll/epoll"
)

// kit opens the fds and the Poll of one fuzz iteration and closes them all
// when the iteration ends, then fails it if the process has a different
// number of open fds than before: every iteration must be leak free.
type kit struct {
	t   *testing.T
	fds []int
}

func newKit(t *testing.T) *kit {
	t.Helper()
	before := fdCount(t)
	k := &kit{t: t}
	// Registered first, so it runs after every other cleanup.
	t.Cleanup(func() {
		for _, fd := range k.fds {
			if err := syscall.Close(fd); err != nil {
				t.Errorf("close fd %d: %v", fd, err)
			}
		}
		if after := fdCount(t); after != before {
			t.Errorf("fd leak: %d open before the iteration, %d after", before, after)
		}
	})
	return k
}

func fdCount(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func (k *kit) keep(fds ...int) { k.fds = append(k.fds, fds...) }

// close closes fd now, for tests that hang up one end of a pipe or socket.
func (k *kit) close(fd int) {
	k.t.Helper()
	i := slices.Index(k.fds, fd)
	if i < 0 {
		k.t.Fatalf("fd %d is not open", fd)
	}
	k.fds = slices.Delete(k.fds, i, i+1)
	if err := syscall.Close(fd); err != nil {
		k.t.Fatalf("close fd %d: %v", fd, err)
	}
}

func (k *kit) poll() *epoll.Poll {
	k.t.Helper()
	p, err := epoll.New()
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() {
		if err := p.Close(); err != nil {
			k.t.Errorf("Poll.Close: %v", err)
		}
	})
	return p
}

func (k *kit) pipe() (r, w int) {
	k.t.Helper()
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		k.t.Fatal(err)
	}
	k.keep(p[0], p[1])
	return p[0], p[1]
}

func (k *kit) socketpair() (a, b int) {
	k.t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		k.t.Fatal(err)
	}
	k.keep(fds[0], fds[1])
	return fds[0], fds[1]
}

// eventfd uses the standard library's syscall number, not the package's, so
// the two stay independent.
func (k *kit) eventfd() int {
	k.t.Helper()
	fd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		k.t.Fatalf("eventfd2: %v", errno)
	}
	k.keep(int(fd))
	return int(fd)
}

// write adds one byte to a pipe or socket, or 1 to an eventfd's counter.
func (k *kit) write(fd int, isEventfd bool) {
	k.t.Helper()
	buf := []byte{'x'}
	if isEventfd {
		buf = binary.NativeEndian.AppendUint64(nil, 1)
	}
	if _, err := syscall.Write(fd, buf); err != nil {
		k.t.Fatalf("write fd %d: %v", fd, err)
	}
}

// drain reads fd until EAGAIN and reports whether anything was read.
func (k *kit) drain(fd int) bool {
	k.t.Helper()
	buf := make([]byte, 4096)
	read := false
	for {
		n, err := syscall.Read(fd, buf)
		switch {
		case err == syscall.EAGAIN:
			return read
		case err == syscall.EINTR:
		case err != nil:
			k.t.Fatalf("read fd %d: %v", fd, err)
		case n == 0:
			return read // EOF
		default:
			read = true
		}
	}
}

func (k *kit) register(p *epoll.Poll, fd int, tok epoll.Token, i epoll.Interest) {
	k.t.Helper()
	if err := p.Registry().Register(fd, tok, i); err != nil {
		k.t.Fatal(err)
	}
}

// seen is what an Event says through the public accessors.
type seen struct {
	Token                             epoll.Token
	Readable, Writable, Error         bool
	ReadClosed, WriteClosed, Priority bool
}

func see(e epoll.Event) seen {
	return seen{e.Token(), e.IsReadable(), e.IsWritable(), e.IsError(), e.IsReadClosed(), e.IsWriteClosed(), e.IsPriority()}
}

// Kernel event bits (include/uapi/linux/eventpoll.h), for expectations.
const (
	epollIn    = 0x1
	epollPri   = 0x2
	epollOut   = 0x4
	epollErr   = 0x8
	epollHup   = 0x10
	epollRdHup = 0x2000
)

// seeBits is what the accessors should say about kernel bits bits.
func seeBits(tok epoll.Token, bits uint32) seen {
	return seen{
		Token:       tok,
		Readable:    bits&epollIn != 0,
		Writable:    bits&epollOut != 0,
		Error:       bits&epollErr != 0,
		ReadClosed:  bits&(epollHup|epollRdHup) != 0,
		WriteClosed: bits&epollHup != 0 || bits&(epollOut|epollErr) == epollOut|epollErr || bits == epollErr,
		Priority:    bits&epollPri != 0,
	}
}

// splitmix64 spreads a small fuzz input over all 64 token bits.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// uniqueTokens returns n distinct tokens: the 8-byte little-endian words of
// raw where it is long enough, then splitmix64 values of seed. A repeated
// token is remixed, so each event can be traced back to its fd.
func uniqueTokens(n int, raw []byte, seed uint64) []epoll.Token {
	toks := make([]epoll.Token, 0, n)
	used := make(map[epoll.Token]bool, n)
	for i := 0; i < n; i++ {
		var v uint64
		if len(raw) >= 8*(i+1) {
			for j := 7; j >= 0; j-- {
				v = v<<8 | uint64(raw[8*i+j])
			}
		} else {
			v = splitmix64(seed + uint64(i))
		}
		for used[epoll.Token(v)] {
			v = splitmix64(v)
		}
		used[epoll.Token(v)] = true
		toks = append(toks, epoll.Token(v))
	}
	return toks
}
