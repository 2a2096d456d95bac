package epoll

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// eventfdCount reads an eventfd's counter from /proc without reading the
// fd, which would clear it. Wakers never read their eventfd, and each write
// adds 1, so for a Waker this is the number of writes Wakes made.
func eventfdCount(t testing.TB, fd int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "eventfd-count:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64) // the kernel prints it in hex
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("fd %d has no eventfd-count in its fdinfo: %q", fd, b)
	return 0
}

func newWaker(t testing.TB, p *Poll, tok Token) *Waker {
	t.Helper()
	w, err := NewWaker(p.Registry(), tok)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestWakeWritesOnlyWhenNonePending counts the eventfd writes: Wakes while
// one is pending make none, and a Wait that returns events re-arms every
// Waker of its Poll, whether or not the batch held that Waker's event.
func TestWakeWritesOnlyWhenNonePending(t *testing.T) {
	p := newPoll(t)
	a, b := newWaker(t, p, 1), newWaker(t, p, 2)
	wake := func(w *Waker, times int) {
		t.Helper()
		for range times {
			if err := w.Wake(); err != nil {
				t.Fatal(err)
			}
		}
	}
	writes := func(what string, wantA, wantB uint64) {
		t.Helper()
		if gotA, gotB := eventfdCount(t, a.fd), eventfdCount(t, b.fd); gotA != wantA || gotB != wantB {
			t.Errorf("%s: %d and %d eventfd writes, want %d and %d", what, gotA, gotB, wantA, wantB)
		}
	}
	wake(a, 100)
	writes("100 Wakes of a", 1, 0)
	expect(t, "one event for them", []got{{Token: 1, Readable: true}}, poll(t, p, 0))
	wake(a, 100)
	writes("100 more after a Wait", 2, 0)

	// Any Wait that returns events re-arms every Waker of the Poll, also
	// one whose event was not in the batch.
	wake(b, 1)
	expect(t, "both", []got{{Token: 1, Readable: true}, {Token: 2, Readable: true}}, poll(t, p, 0))
	wake(b, 3)
	writes("a re-armed by the Wait, b woken again", 2, 2)
	expect(t, "b", []got{{Token: 2, Readable: true}}, poll(t, p, 0))
	wake(a, 1)
	writes("a re-armed by a Wait that returned only b's event", 3, 2)

	// A closed Waker leaves the Poll's list; the others stay on it.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	expect(t, "a after b closed", []got{{Token: 1, Readable: true}}, poll(t, p, 0))
	wake(a, 2)
	if got := eventfdCount(t, a.fd); got != 4 {
		t.Errorf("a after b closed: %d writes, want 4", got)
	}
}

// TestWakeStormLosesNoTask is the pattern Wakers exist for: 8 goroutines
// queue tasks and Wake after each, against a loop that drains the queue
// after every Wait. A lost wake is a task queued by a Wake that has
// returned, with no event on its way. The test finds one without timing:
// once every Wake of an episode has returned, a sentinel eventfd is
// written; if the batch that reports it leaves tasks queued and holds no
// Wake, the Waker's event must already be in the kernel's ready list, so a
// Wait(0) must return it.
//
// In odd episodes the Wakes race with the loop. In even ones they all come
// while the loop is still handling the previous batch, after its last look
// at the queue: a Waker re-armed only after handling would take every one
// of them for a duplicate and write nothing.
func TestWakeStormLosesNoTask(t *testing.T) {
	const producers, episodes, perProducer = 8, 40, 250
	p := newPoll(t)
	wk := newWaker(t, p, 1)
	sentinel := eventfd(t)
	register(t, p, sentinel, 2, Readable|EdgeTriggered)
	var queued atomic.Int64
	events := make([]Event, 0, 4)
	for episode := range episodes {
		var wg sync.WaitGroup
		errs := make(chan error, producers+1)
		for range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perProducer {
					queued.Add(1)
					if err := wk.Wake(); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		if episode%2 == 0 {
			wg.Wait()
			if err := writeEventfd(sentinel); err != nil {
				t.Fatal(err)
			}
		} else {
			go func() {
				wg.Wait()
				if err := writeEventfd(sentinel); err != nil {
					errs <- err
				}
			}()
		}
		drained := int64(0)
		for ended := false; !ended; {
			var err error
			if events, err = p.Wait(events, Forever); err != nil {
				t.Fatal(err)
			}
			woken := false
			for _, ev := range events {
				woken = woken || ev.Token() == 1
				ended = ended || ev.Token() == 2
			}
			if ended && !woken && queued.Load() > 0 {
				if events, err = p.Wait(events, 0); err != nil {
					t.Fatal(err)
				}
				if len(events) != 1 || events[0].Token() != 1 {
					t.Fatalf("episode %d: every Wake returned, %d tasks queued, and no Wake pending: a wake was lost (Wait(0) returned %v)",
						episode, queued.Load(), events)
				}
			}
			drained += queued.Swap(0)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if drained != producers*perProducer {
			t.Fatalf("episode %d: drained %d tasks, want %d", episode, drained, producers*perProducer)
		}
	}
}

// BenchmarkWakeStorm measures Wake under contention: 8 goroutines queue a
// task and Wake, against a loop that waits and drains the queue, as in
// TestWakeStormLosesNoTask. One op is one Wake. writes/wake counts the
// eventfd writes; impl=write is the Waker before coalescing, one write per
// Wake, for comparison in the same run. lost-wakes is 1 if, once every Wake
// has returned, tasks are queued with no Wake on its way, found as the
// test finds it.
func BenchmarkWakeStorm(b *testing.B) {
	for _, impl := range []string{"waker", "write"} {
		b.Run("impl="+impl, func(b *testing.B) {
			p := newPoll(b)
			wk := newWaker(b, p, 1)
			wake := wk.Wake
			if impl == "write" {
				wake = func() error { return writeEventfd(wk.fd) }
			}
			sentinel := eventfd(b)
			register(b, p, sentinel, 2, Readable|EdgeTriggered)
			var queued atomic.Int64
			lost := 0.0
			loopErr := make(chan error, 1)
			go func() {
				events := make([]Event, 0, 4)
				var err error
				for ended := false; !ended; {
					if events, err = p.Wait(events, Forever); err != nil {
						break
					}
					woken := false
					for _, ev := range events {
						woken = woken || ev.Token() == 1
						ended = ended || ev.Token() == 2
					}
					if ended && !woken && queued.Load() > 0 {
						if events, err = p.Wait(events, 0); err != nil {
							break
						}
						if len(events) != 1 || events[0].Token() != 1 {
							lost = 1
						}
					}
					queued.Swap(0)
				}
				loopErr <- err
			}()
			before := eventfdCount(b, wk.fd)
			b.SetParallelism((8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)) // 8 goroutines at least
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					queued.Add(1)
					if err := wake(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(eventfdCount(b, wk.fd)-before)/float64(b.N), "writes/wake")
			if err := writeEventfd(sentinel); err != nil {
				b.Fatal(err)
			}
			if err := <-loopErr; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(lost, "lost-wakes")
		})
	}
}
