package epoll

// How Wakes coalesce, the one rule of this file:
//
// A Waker is an eventfd registered edge-triggered, so the kernel turns any
// number of writes before a Wait into one event, which the Wait receives
// with no extra system call. Wakes also skip the write itself when one is
// already pending: the Wake that moves pending from false to true writes,
// and until Wait clears pending, later Wakes return at once, because the
// pending write's event is still to reach the Wait's caller, who will see
// whatever those Wakes' callers did before them. (The Load before the CAS
// keeps a storm of Wakes reading a shared cache line instead of fighting
// over it.) A write that fails clears pending again: no event is coming,
// so the next Wake must write.
//
// Wait clears pending (wakerSet.rearm) after the kernel has returned
// events and before it hands them to its caller; the order is what keeps a
// wake from being lost:
//
//   - Cleared after the return from the kernel: every write made before the
//     clear was either reported by this return, or is still in the kernel's
//     ready list for the next Wait. A Wake after the clear writes anew.
//   - Cleared before the caller handles the events: a Wake that found the
//     flag set did its work (queued a task, say) before the clear, so the
//     caller, handling events after it, sees that work. Clearing after
//     handling would let such a Wake slip in between the caller's last look
//     at its queue and the clear: it would write nothing, and its task
//     would wait for some later, unrelated event.
//
// A clear on a return that did not include the Waker's event, while its
// write is still to come, only costs a later Wake a redundant write.

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// Waker wakes a Poll's Wait from another goroutine: Wait reports an event
// with the Waker's token. It is an eventfd registered edge-triggered, so any
// number of Wakes before a Wait coalesce into one event, and receiving it
// costs the waiting side no extra system call.
type Waker struct {
	fd       int
	registry *Registry
	life     lifetime
	pending  atomic.Bool // a write is on its way or its event not yet handed over: see the top of the file
}

// NewWaker creates a Waker registered with r under token t.
func NewWaker(r *Registry, t Token) (*Waker, error) {
	fd, err := newEventfd()
	if err != nil {
		return nil, err
	}
	if err := r.Register(fd, t, Readable|EdgeTriggered); err != nil {
		closeUnused(uintptr(fd))
		return nil, err
	}
	w := &Waker{fd: fd, registry: r, life: newLifetime()}
	r.wakers.add(w)
	return w, nil
}

// Wake makes the Poll's current or next Wait report the Waker's token. It is
// safe to call from any goroutine. After the Waker or its Poll is closed it
// returns ErrClosed.
//
// Wake is not a synchronization point in the Go memory model: a plain
// variable written before Wake and read once Wait has reported the token is
// a data race, which -race reports. Hand the data over through a channel
// (as ExampleNewWaker does), a mutex or an atomic value:
//
//	mu.Lock()
//	queue = append(queue, job)
//	mu.Unlock()
//	waker.Wake()
//
// and in the event loop, on the Waker's token:
//
//	mu.Lock()
//	jobs := queue
//	queue = nil
//	mu.Unlock()
func (w *Waker) Wake() error {
	if !w.life.acquire() {
		return &OpError{Op: "wake", Fd: w.life.fdOf(w.fd), Err: ErrClosed}
	}
	defer w.life.release()
	if w.registry.life.closed() {
		return &OpError{Op: "wake", Fd: w.fd, Err: ErrClosed}
	}
	// Coalesce with a pending Wake (see the top of the file).
	if w.pending.Load() || !w.pending.CompareAndSwap(false, true) {
		return nil
	}
	if err := writeEventfd(w.fd); err != nil {
		w.pending.Store(false)
		return err
	}
	return nil
}

// Close deregisters and closes the Waker. Later Wakes return ErrClosed.
// Close is idempotent: later calls return nil.
func (w *Waker) Close() error {
	if !w.life.close() {
		return nil
	}
	w.life.waitDrained()
	w.registry.wakers.remove(w)
	err := w.registry.Deregister(w.fd)
	if errors.Is(err, ErrClosed) {
		err = nil // the Poll is gone, and the registration with it
	}
	if err2 := closeFd("close", w.fd); err == nil {
		err = err2
	}
	return err
}

// wakerSet is the Wakers registered with a Poll, which Wait re-arms. The
// list is copied on change, so Wait reads it with one atomic load, and with
// no Wakers that load is all it costs.
type wakerSet struct {
	list atomic.Pointer[[]*Waker]
	mu   sync.Mutex // serializes changes
}

func (s *wakerSet) add(w *Waker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*Waker
	if old := s.list.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, w)
	s.list.Store(&list)
}

func (s *wakerSet) remove(w *Waker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.list.Load()
	if old == nil {
		return
	}
	list := slices.DeleteFunc(slices.Clone(*old), func(x *Waker) bool { return x == w })
	if len(list) == 0 {
		s.list.Store(nil)
		return
	}
	s.list.Store(&list)
}

// rearm clears every Waker's pending flag. Wait calls it after the kernel
// has returned events and before it hands them to its caller, an order
// explained at the top of the file.
func (s *wakerSet) rearm() {
	list := s.list.Load()
	if list == nil {
		return
	}
	for _, w := range *list {
		if w.pending.Load() {
			w.pending.Store(false)
		}
	}
}

// writeEventfd adds 1 to an eventfd's counter for Wake.
func writeEventfd(fd int) error {
	if errno := addEventfd(fd); errno != 0 {
		return &OpError{Op: "wake", Fd: fd, Err: errno}
	}
	return nil
}
