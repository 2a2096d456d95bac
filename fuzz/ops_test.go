package fuzz_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/rawpoll/epoll"
)

// FuzzOps runs an arbitrary program of Register, Reregister, Deregister,
// write, drain and Wait over up to four fds (pipes, eventfds, socketpairs) in
// level-triggered, edge-triggered and oneshot modes, and checks every
// result against a small model of epoll.
//
// The model tracks, per fd, whether the kernel has it on its ready list
// ("queued": no, maybe, yes). A Wait must report every fd whose
// registration is armed, whose interest meets its readiness, and which is
// level-triggered or queued; it may report the ones queued "maybe"; it must
// not report any other, and each report must carry the registered token and
// exactly the ready bits asked for. The fd's readiness only changes through
// the program's writes and drains, which the model mirrors.
//
// Program bytes: prog[0]%4+1 fds, whose kinds are the next bytes (%3:
// eventfd, pipe, socket); then (op, arg) pairs: op%6 is the operation and
// op/6 picks the fd; arg holds the interest (bit 0 Readable, 1 Writable,
// 2 Priority, 3 EdgeTriggered, 4 Oneshot, 5 Exclusive) and, with the fd,
// the token; for Wait, 1+arg%8 is the buffer capacity.
func FuzzOps(f *testing.F) {
	f.Add([]byte{2, 0, 1, 0, 0x09, 1, 0x01, 3, 0, 5, 7, 5, 7, 4, 0, 5, 3})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) == 0 {
			return
		}
		const maxOps = 64
		k := newKit(t)
		p := k.poll()
		reg := p.Registry()
		m := &model{t: t, k: k}
		nfds := 1 + int(prog[0])%4
		prog = prog[1:]
		for i := 0; i < nfds; i++ {
			kind := i % 3
			if i < len(prog) {
				kind = int(prog[i]) % 3
			}
			m.add(kind)
		}
		prog = prog[min(nfds, len(prog)):]
		buf := make([]epoll.Event, 0, 8)
		for n := 0; len(prog) >= 2 && n < maxOps; n, prog = n+1, prog[2:] {
			op, arg := prog[0], prog[1]
			s := m.slots[int(op/6)%len(m.slots)]
			interest := decodeInterest(arg)
			tok := epoll.Token(splitmix64(uint64(s.index)<<8 | uint64(arg)))
			switch op % 6 {
			case 0:
				m.logf("Register(fd %d, %#x, %v)", s.fd, uint64(tok), interest)
				m.register(s, reg.Register(s.fd, tok, interest), tok, interest)
			case 1:
				m.logf("Reregister(fd %d, %#x, %v)", s.fd, uint64(tok), interest)
				m.reregister(s, reg.Reregister(s.fd, tok, interest), tok, interest)
			case 2:
				m.logf("Deregister(fd %d)", s.fd)
				m.deregister(s, reg.Deregister(s.fd))
			case 3:
				m.logf("write fd %d", s.writeTo)
				m.write(s)
			case 4:
				m.logf("drain fd %d", s.fd)
				m.drain(s)
			case 5:
				c := 1 + int(arg)%8
				events, err := p.Wait(buf[:0:c], 0)
				if err != nil {
					t.Fatal(err)
				}
				m.logf("Wait(cap %d) = %s", c, fmtEvents(events))
				m.wait(events, c)
			}
		}
		for _, s := range m.slots {
			if s.registered {
				m.deregister(s, reg.Deregister(s.fd))
			}
		}
		expectEvents(t, p, buf, "after deregistering everything", nil)
	})
}

// fmtEvents shows tokens in hex, as the program log does.
func fmtEvents(events []epoll.Event) string {
	parts := make([]string, 0, len(events))
	for _, e := range events {
		_, bits, _ := strings.Cut(e.String(), "Events: ")
		parts = append(parts, fmt.Sprintf("{%#x %s", uint64(e.Token()), bits))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func decodeInterest(arg byte) epoll.Interest {
	var i epoll.Interest
	for bit, flag := range []epoll.Interest{epoll.Readable, epoll.Writable, epoll.Priority, epoll.EdgeTriggered, epoll.Oneshot, epoll.Exclusive} {
		if arg&(1<<bit) != 0 {
			i |= flag
		}
	}
	return i
}

type tri uint8

const (
	no tri = iota
	maybe
	yes
)

// slot is one registrable fd and what the model knows about it.
type slot struct {
	index, kind int
	fd, writeTo int // writeTo makes fd readable

	registered bool
	token      epoll.Token
	interest   epoll.Interest
	armed      bool // false once a oneshot registration has reported
	queued     tri  // on the kernel's ready list
	pending    int  // bytes (or eventfd count) written and not yet drained
}

// bits is what a Wait would report for s now, if it reports s.
func (s *slot) bits() uint32 {
	ready := pick(s.pending > 0, epollIn) | pick(s.kind != pipeReader, epollOut)
	asked := pick(s.interest&epoll.Readable != 0, epollIn) | pick(s.interest&epoll.Writable != 0, epollOut) | pick(s.interest&epoll.Priority != 0, epollPri)
	return ready & asked
}

func (s *slot) level() bool { return s.interest&(epoll.EdgeTriggered|epoll.Oneshot) == 0 }

type model struct {
	t     *testing.T
	k     *kit
	slots []*slot
	log   []string // the program so far, for failure messages
}

func (m *model) logf(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf(format, args...))
}

func (m *model) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("%s\nprogram so far:\n\t%s", fmt.Sprintf(format, args...), strings.Join(m.log, "\n\t"))
}

func (m *model) add(kind int) {
	s := &slot{index: len(m.slots)}
	switch kind {
	case 0:
		s.kind = eventFD
		s.fd = m.k.eventfd()
		s.writeTo = s.fd
	case 1:
		s.kind = pipeReader
		s.fd, s.writeTo = m.k.pipe()
	case 2:
		s.kind = socket
		s.fd, s.writeTo = m.k.socketpair()
	}
	m.slots = append(m.slots, s)
}

func (m *model) expectErr(err error, op string, s *slot, errno syscall.Errno) bool {
	m.t.Helper()
	if errno == 0 {
		if err != nil {
			m.fatalf("%s fd %d: %v, want success", op, s.fd, err)
		}
		return true
	}
	if err == nil {
		m.fatalf("%s fd %d succeeded, want %v", op, s.fd, errno)
	}
	wantOpError(m.t, err, op, s.fd, errno)
	return false
}

func (m *model) register(s *slot, err error, tok epoll.Token, i epoll.Interest) {
	m.t.Helper()
	var errno syscall.Errno
	switch {
	case i&epoll.Exclusive != 0 && i&(epoll.Oneshot|epoll.Priority) != 0:
		errno = syscall.EINVAL // checked by the kernel before EEXIST
	case s.registered:
		errno = syscall.EEXIST
	}
	if !m.expectErr(err, "register", s, errno) {
		return
	}
	s.registered, s.token, s.interest, s.armed = true, tok, i, true
	// ep_insert polls the fd and queues it if it is ready.
	s.queued = no
	if s.bits() != 0 {
		s.queued = yes
	}
}

func (m *model) reregister(s *slot, err error, tok epoll.Token, i epoll.Interest) {
	m.t.Helper()
	var errno syscall.Errno
	switch {
	case i&epoll.Exclusive != 0:
		errno = syscall.EINVAL // EPOLL_CTL_MOD never takes EPOLLEXCLUSIVE
	case !s.registered:
		errno = syscall.ENOENT
	case s.interest&epoll.Exclusive != 0:
		errno = syscall.EINVAL // nor modifies an exclusive registration
	}
	if !m.expectErr(err, "reregister", s, errno) {
		return
	}
	s.token, s.interest, s.armed = tok, i, true
	// ep_modify polls the fd and queues it if it is ready; a queued fd stays
	// queued either way.
	if s.bits() != 0 {
		s.queued = yes
	}
}

func (m *model) deregister(s *slot, err error) {
	m.t.Helper()
	var errno syscall.Errno
	if !s.registered {
		errno = syscall.ENOENT
	}
	if m.expectErr(err, "deregister", s, errno) {
		s.registered, s.queued = false, no
	}
}

// write makes s readable. The kernel wakes the fd's waiters with a key of
// EPOLLIN (pipes, eventfds) or EPOLLIN|EPOLLPRI (sockets); an armed
// registration asking for one of those bits is queued.
func (m *model) write(s *slot) {
	m.t.Helper()
	m.k.write(s.writeTo, s.kind == eventFD)
	wasEmpty := s.pending == 0
	s.pending++
	key := epoll.Readable
	if s.kind == socket {
		key |= epoll.Priority
	}
	if !s.registered || !s.armed || s.interest&key == 0 {
		return
	}
	switch {
	case s.kind == pipeReader && !wasEmpty && s.queued == no:
		// Linux 5.5 to 5.15 woke a pipe's readers only when it was empty.
		s.queued = maybe
	default:
		s.queued = yes
	}
}

// drain reads s until EAGAIN. Reading an eventfd wakes its waiters with
// EPOLLOUT; reading a pipe or socket that was never full wakes nobody on fd.
func (m *model) drain(s *slot) {
	m.t.Helper()
	had := s.pending > 0
	if got := m.k.drain(s.fd); got != had {
		m.fatalf("drain fd %d read something: %v, but %d writes are pending", s.fd, got, s.pending)
	}
	s.pending = 0
	if had && s.kind == eventFD && s.registered && s.armed && s.interest&epoll.Writable != 0 {
		s.queued = yes
	}
}

func (m *model) wait(events []epoll.Event, c int) {
	m.t.Helper()
	if len(events) > c {
		m.fatalf("Wait with capacity %d returned %d events", c, len(events))
	}
	reported := make(map[*slot]bool)
	for j, e := range events {
		var s *slot
		for _, cand := range m.slots {
			if cand.registered && cand.token == e.Token() {
				s = cand
			}
		}
		switch {
		case s == nil:
			m.fatalf("event %d: token %#x belongs to no current registration (%v)", j, uint64(e.Token()), e)
		case reported[s]:
			m.fatalf("event %d: fd %d (token %#x) reported twice in one Wait", j, s.fd, uint64(s.token))
		case !s.armed:
			m.fatalf("event %d: fd %d reported after its oneshot fired, without Reregister", j, s.fd)
		case s.bits() == 0:
			m.fatalf("event %d: fd %d reported %v, but nothing it asks for (%v) is ready", j, s.fd, e, s.interest)
		case !s.level() && s.queued == no:
			m.fatalf("event %d: fd %d (%v) reported %v with no new edge since its last report", j, s.fd, s.interest, e)
		case see(e) != seeBits(s.token, s.bits()):
			m.fatalf("event %d: fd %d reported %+v, want %+v", j, s.fd, see(e), seeBits(s.token, s.bits()))
		}
		reported[s] = true
	}
	for _, s := range m.slots {
		if !s.registered {
			continue
		}
		must := s.armed && s.bits() != 0 && (s.level() || s.queued == yes)
		switch {
		case reported[s]:
			switch {
			case s.interest&epoll.Oneshot != 0:
				s.armed, s.queued = false, no
			case s.interest&epoll.EdgeTriggered != 0:
				s.queued = no
			default:
				s.queued = yes // a level-triggered fd goes back on the list
			}
		case len(events) < c:
			// The kernel went through its whole ready list.
			if must {
				m.fatalf("fd %d (token %#x, %v, bits %#x) is ready and queued, but Wait with room for %d returned only %d events",
					s.fd, uint64(s.token), s.interest, s.bits(), c, len(events))
			}
			s.queued = no
		case s.bits() == 0 && s.queued == yes:
			// The kernel drops a queued fd with nothing to report when it
			// reaches it; with a full buffer it may not have.
			s.queued = maybe
		}
	}
}
