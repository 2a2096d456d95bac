package epoll

// Scale and concurrency: a hundred thousand registered fds, and random
// operations from eight goroutines checked against a model of the events
// they must and must not cause.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fdRoom raises RLIMIT_NOFILE so that n more fds fit, restoring it after
// the test, and returns how many do fit: fewer than n if the hard limit is
// lower and the process may not raise it (that takes CAP_SYS_RESOURCE).
func fdRoom(t *testing.T, n int) int {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	open := uint64(countFds(t) + 64)
	need := open + uint64(n)
	if old.Cur >= need {
		return n
	}
	lim := syscall.Rlimit{Cur: need, Max: max(old.Max, need)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		lim = syscall.Rlimit{Cur: old.Max, Max: old.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		n = int(old.Max - min(open, old.Max))
		t.Logf("RLIMIT_NOFILE's hard limit is %d and raising it failed (%v): room for %d fds", old.Max, err, n)
	}
	t.Cleanup(func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
			t.Errorf("restoring RLIMIT_NOFILE: %v", err)
		}
	})
	return n
}

// collect waits with a zero timeout until want events have arrived or a
// Wait comes back empty, and counts the readable events per token.
func collect(t *testing.T, p *Poll, events []Event, counts []int, want int) (calls int) {
	t.Helper()
	clear(counts)
	for total := 0; total < want; {
		// Never ask for more than want: level-triggered fds come round
		// again once every ready one has been reported.
		evs, err := p.Wait(events[:0:min(len(events), want-total)], 0)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if len(evs) == 0 {
			return calls
		}
		for _, e := range evs {
			if tok := e.Token(); tok < Token(len(counts)) && e.IsReadable() {
				counts[tok]++
			} else {
				t.Fatalf("unexpected event %v", e)
			}
		}
		total += len(evs)
	}
	return calls
}

// checkCounts fails unless token i was counted want(i) times, and no event
// is left to report.
func checkCounts(t *testing.T, p *Poll, what string, counts []int, want func(i int) int) {
	t.Helper()
	for i, c := range counts {
		if c != want(i) {
			t.Fatalf("%s: token %d reported %d times, want %d", what, i, c, want(i))
		}
	}
	if evs, _ := p.Wait(make([]Event, 16), 0); len(evs) != 0 {
		t.Fatalf("%s: %d more events after every one was reported", what, len(evs))
	}
}

func checkWatches(t *testing.T, n int) {
	t.Helper()
	if b, err := os.ReadFile("/proc/sys/fs/epoll/max_user_watches"); err == nil {
		if watches, _ := strconv.Atoi(strings.TrimSpace(string(b))); watches < n+100 {
			t.Fatalf("fs.epoll.max_user_watches is %d: too few for %d registrations", watches, n)
		}
	}
}

// Every readiness of many eventfds is delivered, exactly once per edge in
// edge-triggered mode; in level-triggered mode a Wait buffer smaller than
// the ready set still reaches every fd in turn. The long run asks for
// 100,000 fds; where the hard RLIMIT_NOFILE is lower and cannot be raised,
// it takes all the limit allows, and TestHardeningManyRegistrations reaches
// 100,000 registrations with fewer fds.
func TestHardeningManyFds(t *testing.T) {
	const least = 10000
	n := fdRoom(t, size(least, 100000))
	if n < least {
		t.Fatalf("room for only %d fds, %d needed", n, least)
	}
	checkWatches(t, n)
	before := fdCount(t)
	start := time.Now()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	fds := make([]int, n)
	t.Cleanup(func() {
		p.Close()
		for _, fd := range fds {
			if fd > 0 {
				syscall.Close(fd)
			}
		}
		if after := fdCount(t); after != before {
			t.Errorf("%d fds open before, %d after", before, after)
		}
	})
	for i := range fds {
		if fds[i], err = newEventfd(); err != nil {
			t.Fatalf("eventfd %d of %d: %v", i, n, err)
		}
		register(t, p, fds[i], Token(i), Readable|EdgeTriggered)
	}
	setup := time.Since(start)
	events := make([]Event, 1024)
	counts := make([]int, n)
	writeEvery := func(every int) {
		for i := 0; i < n; i += every {
			if err := writeEventfd(fds[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	once := func(int) int { return 1 }

	start = time.Now()
	writeEvery(1)
	collect(t, p, events, counts, n)
	checkCounts(t, p, "every fd written", counts, once)
	writeEvery(1)
	collect(t, p, events, counts, n)
	checkCounts(t, p, "every fd written again, unread", counts, once)
	writeEvery(3)
	collect(t, p, events, counts, n)
	checkCounts(t, p, "every third fd written", counts, func(i int) int { return b2i(i%3 == 0) })
	edge := time.Since(start)

	start = time.Now()
	for i, fd := range fds {
		if err := p.Registry().Reregister(fd, Token(i), Readable); err != nil {
			t.Fatal(err)
		}
	}
	// Level-triggered, all ready, 1024 slots: each Wait takes the next
	// 1024, so the first n/1024 Waits see every fd exactly once.
	for pass := 1; pass <= 2; pass++ {
		calls := collect(t, p, events, counts, n)
		for i, c := range counts {
			if c != 1 {
				t.Fatalf("level-triggered pass %d: fd %d reported %d times in %d Waits", pass, fds[i], c, calls)
			}
		}
	}
	for _, fd := range fds {
		drain(t, fd)
	}
	if evs, _ := p.Wait(events, 0); len(evs) != 0 {
		t.Fatalf("%d events after every fd was drained", len(evs))
	}
	level := time.Since(start)
	t.Logf("%d eventfds: created and registered in %v; 3 edge-triggered rounds in %v; 2 level-triggered passes in %v", n, setup.Round(time.Millisecond), edge.Round(time.Millisecond), level.Round(time.Millisecond))
}

// Registrations are keyed by fd number and file, and live as long as the
// file: registering one eventfd under 1,000 dup'ed numbers, then closing the
// dups, leaves 1,000 registrations on one open fd (the stale-event lesson,
// put to use). 100 eventfds give 100,000 registrations with 1,100 fds. A
// write to an eventfd reports each of its registrations exactly once.
func TestHardeningManyRegistrations(t *testing.T) {
	const perFile = 1000
	files := size(10, 100)
	n := files * perFile
	checkWatches(t, n)
	before := fdCount(t)
	p := newPoll(t)
	start := time.Now()
	fds := make([]int, files)
	dups := make([]int, perFile)
	for f := range fds {
		fd, err := newEventfd()
		if err != nil {
			t.Fatal(err)
		}
		fds[f] = fd
		for j := range dups {
			d, err := syscall.Dup(fds[f])
			if err != nil {
				t.Fatal(err)
			}
			dups[j] = d
			register(t, p, d, Token(f*perFile+j), Readable|EdgeTriggered)
		}
		for _, d := range dups {
			syscall.Close(d)
		}
	}
	setup := time.Since(start)
	events := make([]Event, 1024)
	counts := make([]int, n)
	start = time.Now()
	for round, every := range []int{1, 1, 7} {
		for f := 0; f < files; f += every {
			if err := writeEventfd(fds[f]); err != nil {
				t.Fatal(err)
			}
		}
		want := func(i int) int { return b2i(i/perFile%every == 0) }
		collect(t, p, events, counts, n)
		checkCounts(t, p, "round "+strconv.Itoa(round+1), counts, want)
	}
	edge := time.Since(start)
	p.Close()
	for _, fd := range fds {
		syscall.Close(fd)
	}
	if after := fdCount(t); after != before {
		t.Errorf("%d fds open before, %d after", before, after)
	}
	t.Logf("%d registrations of %d eventfds: made in %v; 3 edge-triggered rounds in %v", n, files, setup.Round(time.Millisecond), edge.Round(time.Millisecond))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---- random operations against a model ----

// Eight goroutines each own a few eventfds and, at random, register them
// with random interest, reregister, deregister, write or read them, while one
// goroutine waits. Every action is logged with a global logical clock
// (stamped before and after the call) and every Wait with the clock at its
// start and end; after the run the logs are checked against what epoll
// promises:
//
//   - an event belongs to a registration that existed: its token was
//     registered, and not deregistered or replaced before the Wait began;
//   - its bits are in the registration's interest, and a Readable event
//     follows a write;
//   - one Wait reports a registration at most once; a Oneshot one reports
//     at most once in all;
//   - an edge-triggered registration reports again only after a new write
//     or read of its fd began after the Wait that reported it last began;
//   - at the end, every registration with a readiness still pending was
//     reported after the action that made it pending.
//
// Tokens are fd index << 32 | generation, a new generation per
// (re)registration.
//
// The waiter waits only when a worker asks it to: every waitEvery
// operations a worker hands it a turn, nudges it with a Waker whose token
// the model ignores (so the Wait returns even if nothing else is ready), and
// waits for that Wait to end while the other workers go on. The number of
// Waits is then a fixed function of the operation count, and so are the
// test's memory and power, on a fast CPU or an emulated one under load: a
// free-running waiter made 300,000 Waits on one kernel (logging 1.4 million
// events, 200 MB on a 256 MiB guest) and 4 on another.
func TestHardeningRandomOpsAgainstModel(t *testing.T) {
	const workers, fdsPerWorker, waitEvery = 8, 6, 8
	ops := size(6000, 1000000)
	p := newPoll(t)
	reg := p.Registry()
	const nudgeToken = Token(1<<64 - 1)
	nudge, err := NewWaker(reg, nudgeToken)
	if err != nil {
		t.Fatal(err)
	}
	defer nudge.Close()

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var clock atomic.Uint64
	tick := func() uint64 { return clock.Add(1) }
	m := &model{fds: make([]fdLog, workers*fdsPerWorker)}
	for i := range m.fds {
		m.fds[i] = fdLog{fd: eventfd(t), cur: -1}
	}
	keep := func(evs []Event, w *waitLog) {
		for _, e := range evs {
			if e.Token() != nudgeToken {
				w.events = append(w.events, loggedEvent{e.Token(), e.events})
			}
		}
	}

	// A turn is one Wait: the waiter signals the channel it was handed
	// once that Wait has ended and is logged.
	turns := make(chan chan struct{})
	waiterDone := make(chan struct{})
	go func() {
		defer close(waiterDone)
		events := make([]Event, 16)
		for done := range turns {
			began := tick()
			evs, err := p.Wait(events, Forever)
			ended := tick()
			if err != nil {
				t.Error(err)
				return
			}
			w := waitLog{began: began, ended: ended}
			keep(evs, &w)
			m.waits = append(m.waits, w)
			done <- struct{}{}
		}
	}()

	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			mine := m.fds[w*fdsPerWorker : (w+1)*fdsPerWorker]
			done := make(chan struct{}, 1)
			for i := 1; i <= ops; i++ {
				j := rng.IntN(len(mine))
				if err := randomOp(reg, &mine[j], w*fdsPerWorker+j, rng, tick); err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				if i%waitEvery == 0 {
					select {
					case turns <- done:
					case <-waiterDone:
						return
					}
					if err := nudge.Wake(); err != nil {
						t.Errorf("worker %d: %v", w, err)
						return
					}
					select {
					case <-done:
					case <-waiterDone:
						return
					}
				}
				// Let the other workers in between operations.
				runtime.Gosched()
			}
		}(w)
	}
	wg.Wait()
	close(turns)
	<-waiterDone
	if t.Failed() {
		return
	}

	// Everything pending now is reported by one Wait big enough for all.
	began := tick()
	evs, err := p.Wait(make([]Event, 2*len(m.fds)+2), 0)
	if err != nil {
		t.Fatal(err)
	}
	final := waitLog{began: began, ended: tick()}
	keep(evs, &final)
	m.waits = append(m.waits, final)

	if want := workers*(ops/waitEvery) + 1; len(m.waits) != want {
		t.Fatalf("%d Waits, want %d", len(m.waits), want)
	}
	stats := m.check(t)
	if stats.edgeChecks == 0 || stats.pending == 0 {
		t.Errorf("no edge-triggered registration was reported twice (%d), or none was pending at the end (%d): the test did not test", stats.edgeChecks, stats.pending)
	}
	t.Logf("%d workers × %d operations on %d eventfds: %d registrations, %d writes, %d reads, %d Waits, %d events; checked %d edge-triggered re-reports, %d pending readinesses at the end",
		workers, ops, len(m.fds), stats.gens, stats.writes, stats.reads, len(m.waits), stats.events, stats.edgeChecks, stats.pending)
}

type model struct {
	fds   []fdLog
	waits []waitLog
}

// fdLog is one eventfd's history, written only by the worker owning it.
type fdLog struct {
	fd      int
	gens    []generation
	actions []action // writes and reads, in order
	count   bool     // the eventfd's counter is not zero
	cur     int      // the live generation, or -1
}

type generation struct {
	interest     Interest
	began, ended uint64 // the (re)registration call
	retired      uint64 // when the Reregister or Deregister that ended it returned; 0 if alive
	pendingSince uint64 // the clock before the last action that made it pending
}

type action struct {
	write        bool
	began, ended uint64
}

type waitLog struct {
	began, ended uint64
	events       []loggedEvent
}

type loggedEvent struct {
	token  Token
	events uint32
}

var modelInterests = []Interest{
	Readable, Readable | EdgeTriggered, Readable | Oneshot,
	Readable | Writable | EdgeTriggered, Writable | EdgeTriggered,
	Writable | Oneshot, Readable | EdgeTriggered | Oneshot,
}

func randomOp(reg *Registry, f *fdLog, index int, rng *rand.Rand, tick func() uint64) error {
	token := Token(index)<<32 | Token(len(f.gens))
	newGen := func(i Interest, began uint64) {
		g := generation{interest: i, began: began, ended: tick()}
		if f.count {
			g.pendingSince = began
		}
		f.gens = append(f.gens, g)
		f.cur = len(f.gens) - 1
	}
	r := rng.IntN(100)
	if f.cur < 0 {
		switch {
		case r < 40:
			i := modelInterests[rng.IntN(len(modelInterests))]
			began := tick()
			if err := reg.Register(f.fd, token, i); err != nil {
				return err
			}
			newGen(i, began)
			return nil
		case r < 43:
			return wantErrno("Deregister of an unregistered fd", reg.Deregister(f.fd), syscall.ENOENT)
		case r < 46:
			return wantErrno("Reregister of an unregistered fd", reg.Reregister(f.fd, token, Readable), syscall.ENOENT)
		}
	} else {
		switch {
		case r < 2:
			return wantErrno("Register of a registered fd", reg.Register(f.fd, token, Readable), syscall.EEXIST)
		case r < 8:
			i := modelInterests[rng.IntN(len(modelInterests))]
			began := tick()
			if err := reg.Reregister(f.fd, token, i); err != nil {
				return err
			}
			f.gens[f.cur].retired = tick()
			newGen(i, began)
			return nil
		case r < 12:
			if err := reg.Deregister(f.fd); err != nil {
				return err
			}
			f.gens[f.cur].retired = tick()
			f.cur = -1
			return nil
		}
	}
	if r < 75 {
		began := tick()
		if err := writeEventfd(f.fd); err != nil {
			return err
		}
		f.actions = append(f.actions, action{write: true, began: began, ended: tick()})
		f.count = true
		if f.cur >= 0 {
			f.gens[f.cur].pendingSince = began
		}
		return nil
	}
	var buf [8]byte
	began := tick()
	n, err := syscall.Read(f.fd, buf[:])
	ended := tick()
	if f.count && (err != nil || n != 8 || binary.NativeEndian.Uint64(buf[:]) == 0) || !f.count && err != syscall.EAGAIN {
		return fmt.Errorf("read of eventfd %d: %d, %v; the model says count > 0 is %v", f.fd, n, err, f.count)
	}
	if f.count {
		f.actions = append(f.actions, action{began: began, ended: ended})
	}
	f.count = false
	if f.cur >= 0 {
		f.gens[f.cur].pendingSince = 0
	}
	return nil
}

func wantErrno(what string, err error, errno syscall.Errno) error {
	if !errors.Is(err, errno) {
		return fmt.Errorf("%s: %v, want %v", what, err, errno)
	}
	return nil
}

type modelStats struct {
	gens, writes, reads, events, edgeChecks, pending int
}

func (m *model) check(t *testing.T) modelStats {
	var st modelStats
	type seen struct {
		wait   int
		events uint32
	}
	reports := make(map[Token][]seen)
	for wi, w := range m.waits {
		inWait := make(map[Token]bool)
		for _, e := range w.events {
			st.events++
			index, gen := int(e.token>>32), int(e.token&0xffffffff)
			if index >= len(m.fds) || gen >= len(m.fds[index].gens) {
				t.Errorf("wait %d: event for token %#x, never registered", wi, e.token)
				continue
			}
			f := &m.fds[index]
			g := f.gens[gen]
			if g.retired != 0 && g.retired < w.began {
				t.Errorf("wait %d (clock %d-%d): event %#x for a registration replaced or removed at %d", wi, w.began, w.ended, e.token, g.retired)
			}
			if g.began > w.ended {
				t.Errorf("wait %d: event %#x before its registration began", wi, e.token)
			}
			allowed := uint32(0)
			if g.interest&Readable != 0 {
				allowed |= epollIn
			}
			if g.interest&Writable != 0 {
				allowed |= epollOut
			}
			if e.events&^allowed != 0 || e.events == 0 {
				t.Errorf("wait %d: event %#x has bits %s, interest is %v", wi, e.token, flagNames(e.events, eventNames), g.interest)
			}
			if e.events&epollIn != 0 && !f.writtenBefore(w.ended) {
				t.Errorf("wait %d: event %#x readable before any write", wi, e.token)
			}
			if inWait[e.token] {
				t.Errorf("wait %d: token %#x twice in one Wait", wi, e.token)
			}
			inWait[e.token] = true
			reports[e.token] = append(reports[e.token], seen{wi, e.events})
		}
	}
	for index := range m.fds {
		f := &m.fds[index]
		st.gens += len(f.gens)
		for _, a := range f.actions {
			if a.write {
				st.writes++
			} else {
				st.reads++
			}
		}
		for gen, g := range f.gens {
			token := Token(index)<<32 | Token(gen)
			rs := reports[token]
			if g.interest&Oneshot != 0 && len(rs) > 1 {
				t.Errorf("Oneshot token %#x reported %d times", token, len(rs))
			}
			if g.interest&EdgeTriggered != 0 {
				// Another report needs an action on the fd that began
				// after the previous report's Wait began. Only writes
				// raise a Readable-only edge; reads raise Writable ones.
				for k := 1; k < len(rs); k++ {
					st.edgeChecks++
					prev, next := m.waits[rs[k-1].wait], m.waits[rs[k].wait]
					if !f.actedBetween(prev.began, next.ended, g.interest&Writable != 0) {
						t.Errorf("edge-triggered token %#x (%v) reported by Waits %d and %d with no new edge between", token, g.interest, rs[k-1].wait, rs[k].wait)
					}
				}
			}
			if g.retired != 0 {
				continue
			}
			// Alive at the end: what is pending must have been reported.
			var since uint64
			switch {
			case g.interest&Readable != 0 && f.count:
				since = g.pendingSince
			case g.interest&Writable != 0: // an eventfd is always writable
				since = g.began
			default:
				continue
			}
			st.pending++
			if g.interest&Oneshot != 0 {
				if len(rs) != 1 {
					t.Errorf("Oneshot token %#x (%v) pending at the end, reported %d times", token, g.interest, len(rs))
				}
				continue
			}
			if len(rs) == 0 || m.waits[rs[len(rs)-1].wait].ended < since {
				t.Errorf("token %#x (%v) pending since clock %d, never reported after", token, g.interest, since)
			}
		}
	}
	return st
}

func (f *fdLog) writtenBefore(clock uint64) bool {
	for _, a := range f.actions {
		if a.write {
			return a.began < clock
		}
	}
	return false
}

// actedBetween reports a write (or, if reads count, any action) that ended
// after from and began before to. Actions are in order of both clocks.
func (f *fdLog) actedBetween(from, to uint64, reads bool) bool {
	i := sort.Search(len(f.actions), func(i int) bool { return f.actions[i].ended > from })
	for ; i < len(f.actions) && f.actions[i].began < to; i++ {
		if f.actions[i].write || reads {
			return true
		}
	}
	return false
}
