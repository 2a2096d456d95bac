package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rawpoll/epoll"
)

// A connection's state decides which timeout it is under and, at the
// connection cap, the order of eviction.
type state uint8

const (
	stClosed state = iota // in no list
	stHead                // a request head is in progress, or a new connection has sent nothing yet
	stIdle                // keep-alive: nothing buffered, nothing owed
	stWrite               // owes responses the socket has had no room for
	nStates
)

var stateNames = [nStates]string{"closed", "header", "idle", "write"}

// connList is an intrusive doubly linked list of the connections in one
// state, oldest first.
//
// Why lists and not a heap or a timer wheel: every connection in a state has
// the same timeout (a flag), so the connection that entered its state first
// has the earliest deadline. Appending on entry therefore keeps each list
// sorted by deadline for free: entering, leaving or restarting a state is
// O(1) with a few pointer writes and no allocation, and the next deadline of
// the loop is the earliest of three fronts. A heap would pay O(log n) per
// request to keep the same order, and a wheel would tick. The same fronts
// give the eviction order at the connection cap (see evict).
type connList struct{ front, back *conn }

func (q *connList) push(c *conn) {
	c.prev, c.next = q.back, nil
	if q.back != nil {
		q.back.next = c
	} else {
		q.front = c
	}
	q.back = c
}

func (q *connList) remove(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		q.front = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		q.back = c.prev
	}
	c.prev, c.next = nil, nil
}

// clock returns the loop's time: the monotonic clock since the server
// started. time.Since on a Time with a monotonic reading costs one vDSO
// clock_gettime(CLOCK_MONOTONIC), half of time.Now, which also reads the
// wall clock. The loop reads it once per Wait return, not per event: a
// deadline is then late by at most the time one batch of events takes.
func (l *loop) clock() { l.now = time.Since(l.srv.epoch) }

// enter puts c in state st with its timer starting now, at the back of
// st's list; re-entering the same state restarts the timer.
func (l *loop) enter(c *conn, st state) {
	if c.state != stClosed {
		l.lists[c.state].remove(c)
	}
	c.state, c.since = st, l.now
	l.lists[st].push(c)
}

// leave takes c out of its list, when it is closed.
func (l *loop) leave(c *conn) {
	if c.state != stClosed {
		l.lists[c.state].remove(c)
		c.state = stClosed
	}
}

// timeout returns how long Wait may sleep: until the earliest deadline
// (a connection's, the drain's or an accept retry's), or Forever when
// there is none, so an idle loop makes no wake-ups.
func (l *loop) timeout() time.Duration {
	next := time.Duration(-1)
	for st := stHead; st < nStates; st++ {
		if c, d := l.lists[st].front, l.srv.cfg.timeouts[st]; c != nil && d > 0 {
			if t := c.since + d; next < 0 || t < next {
				next = t
			}
		}
	}
	if l.draining && (next < 0 || l.drainEnd < next) {
		next = l.drainEnd
	}
	if l.retryAt > 0 && (next < 0 || l.retryAt < next) {
		next = l.retryAt
	}
	if next < 0 {
		return epoll.Forever
	}
	return max(next-l.now, 0)
}

// expire closes every connection whose deadline has passed, fronts first.
func (l *loop) expire() {
	for st := stHead; st < nStates; st++ {
		d := l.srv.cfg.timeouts[st]
		if d <= 0 {
			continue
		}
		for c := l.lists[st].front; c != nil && c.since+d <= l.now; c = l.lists[st].front {
			l.srv.expired[st].Add(1)
			l.closeConn(c)
		}
	}
}

// evict closes the connection that least deserves its fd, and reports
// whether there was one: of the longest idle and the oldest unfinished
// head, the one that has waited longer, since its last response or since
// its head (or connection) started. A slowloris head grows old, since its
// timer does not restart as bytes trickle in, and so does a keep-alive
// connection nobody uses; a busy keep-alive client's connection, idle
// between a response and its next request, is young. (Evicting every
// idle connection before any head, tried first, closed the soak's
// well-behaved keep-alive clients 44,785 times in 20 s and made some of
// their new connections fail.) Connections owing responses are never
// evicted: closing them would lose answers to requests already made.
func (l *loop) evict() bool {
	c, st := l.lists[stIdle].front, stIdle
	if h := l.lists[stHead].front; h != nil && (c == nil || h.since < c.since) {
		c, st = h, stHead
	}
	if c == nil {
		return false
	}
	l.srv.evicted[st].Add(1)
	l.closeConn(c)
	return true
}

// stats is one line of the server's counters, for SIGUSR1 and the end of
// run: the connections open and accepted, those closed by each timeout,
// evicted for a newcomer by state (and how many of those because accept
// ran out of fds), accepted and closed at once at the cap ("full") or for
// want of fds ("nofd"), the accepts that failed and were tried again
// later, and the bytes of buffers held and the most one connection held.
func (s *server) stats() string {
	accepted := s.sum(func(l *loop) *atomic.Int64 { return &l.accepted })
	held := s.sum(func(l *loop) *atomic.Int64 { return &l.held })
	var peak int64
	for _, l := range s.loops {
		peak = max(peak, l.peak.Load())
	}
	return fmt.Sprintf("stats conns=%d accepted=%d expired_header=%d expired_idle=%d expired_write=%d evicted_idle=%d evicted_header=%d evicted_emfile=%d refused_full=%d refused_nofd=%d accept_retries=%d held_bytes=%d peak_conn_bytes=%d",
		s.conns.Load(), accepted, s.expired[stHead].Load(), s.expired[stIdle].Load(), s.expired[stWrite].Load(),
		s.evicted[stIdle].Load(), s.evicted[stHead].Load(), s.emfile.Load(), s.full.Load(), s.refused.Load(), s.acceptErrs.Load(), held, peak)
}

// sum adds up one of the loops' own counters over every loop.
func (s *server) sum(counter func(*loop) *atomic.Int64) int64 {
	var n int64
	for _, l := range s.loops {
		n += counter(l).Load()
	}
	return n
}
