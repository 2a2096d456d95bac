package main

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/rawpoll/epoll"
	"github.com/rawpoll/epoll/internal/http1"
)

// Connections are registered with their fd as the token. Fds fit in 31 bits,
// so these two tokens can never be mistaken for a connection.
const (
	listenerToken epoll.Token = 1 << 32
	wakerToken    epoll.Token = 1<<32 + 1
)

const readSize = 64 << 10 // bytes per read system call

// config is what the flags set.
type config struct {
	loops int
	// timeouts by state, 0 for none: a started request head must be whole
	// within timeouts[stHead], a keep-alive connection with nothing in
	// flight may stay timeouts[stIdle], and a connection that owes
	// responses may make no write progress for timeouts[stWrite].
	timeouts     [nStates]time.Duration
	drainTimeout time.Duration // how long Drain lets connections finish
	// maxConns is the most connections the server holds; at the cap a
	// newcomer takes the place of the connection of its loop that has
	// waited longest, idle or with an unfinished head (see evict).
	maxConns int
	// maxPendingOutput bounds the responses a connection may owe: beyond
	// it the server stops reading it until the client reads. 0: no bound.
	maxPendingOutput int
}

// defaultConfig is the flags' defaults with n loops.
//
// The header timeout is 20 s, Apache's (mod_reqtimeout's header=20-40)
// and a third of nginx's 60 s client_header_timeout: a real client sends a
// head in one packet, and each second allowed is a second a slowloris
// holds an fd. Idle is nginx's keepalive_timeout, 75 s. Write is nginx's
// send_timeout, 60 s without progress. Drain is 10 s, a third of the 30 s
// that Kubernetes waits before SIGKILL (systemd waits 90 s).
func defaultConfig(n int) config {
	c := config{loops: n, drainTimeout: 10 * time.Second, maxPendingOutput: 64 << 10}
	c.timeouts[stHead] = 20 * time.Second
	c.timeouts[stIdle] = 75 * time.Second
	c.timeouts[stWrite] = 60 * time.Second
	c.maxConns = defaultMaxConns(n)
	return c
}

// defaultMaxConns is RLIMIT_NOFILE (which the Go runtime raises to the
// hard limit at start) less what the server holds besides connections, 4
// fds a loop and the spare, and a margin for stdio, logging and the
// runtime.
func defaultMaxConns(loops int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 1 << 20
	}
	return max(int(lim.Cur)-4*loops-1-32, 1) //nolint:gosec // G115: bounded above
}

// server is an HTTP/1.1 server on several event loops, each a goroutine
// with its own Poll, listener and connections: loops share nothing, so
// they need no locks. Other goroutines may only call Shutdown and Drain.
type server struct {
	addr  string // the address listened on, port 0 resolved
	loops []*loop
	cfg   config
	epoch time.Time // the loops' clocks count from here

	conns    atomic.Int64 // open connections, for the cap
	draining atomic.Bool  // Drain was called
	stopNow  atomic.Bool  // Shutdown was called

	// spare is an fd held to be closed when accept runs out of fds. Every
	// accept holds acceptMu, so that no other loop's accept takes the
	// spare's number in the moment it is free.
	acceptMu sync.Mutex
	spare    int

	// accept4 is syscall.Accept4; a test makes it fail.
	accept4 func(fd, flags int) (int, syscall.Sockaddr, error)

	// Figures for the tests and the stats line.
	writeWaits atomic.Int64          // writes that had to wait for Writable
	refused    atomic.Int64          // connections accepted and closed for want of fds
	full       atomic.Int64          // accepted and closed at the cap, none evictable
	expired    [nStates]atomic.Int64 // connections closed by each timeout
	evicted    [nStates]atomic.Int64 // connections closed for a newcomer, by state
	emfile     atomic.Int64          // of those, evicted because accept ran out of fds
	acceptErrs atomic.Int64          // accepts that failed and were tried again later
}

// loop is one event loop. Its goroutine owns all of it.
type loop struct {
	srv      *server
	poll     *epoll.Poll
	waker    *epoll.Waker
	listener int
	conns    []*conn // by fd; nil where the fd is not a connection of this loop
	buf      []byte  // the read buffer, shared: one connection reads at a time
	out      []byte  // the responses to one read, before they are written

	now      time.Duration     // the loop's clock, read once per Wait return
	lists    [nStates]connList // open connections by state, oldest first
	nconns   int               // open connections of this loop
	draining bool              // serving what is owed, then returning
	drainEnd time.Duration     // when draining gives up
	retryAt  time.Duration     // when to call accept again after it failed; 0 for none
	backoff  time.Duration     // the wait before that retry, doubled on each failure
	peakConn int               // the most bytes one connection has held
	nreads   int64             // read system calls

	// Figures for the tests, per loop so that loops share no cache line.
	accepted atomic.Int64 // connections
	reads    atomic.Int64 // nreads as of the last Wait
	waits    atomic.Int64 // Wait returns
	held     atomic.Int64 // bytes of buffers the connections hold
	peak     atomic.Int64 // peakConn, for other goroutines
}

// conn is one client connection. An idle one holds no buffer: bytes are
// kept only while a request is incomplete or its answer could not be sent.
type conn struct {
	fd      int
	in      []byte // requests read but not yet answered: the start of a head, or heads held back by maxPendingOutput
	out     []byte // responses the socket had no room for
	waiting bool   // out is not empty: registered for Writable, not Readable
	closing bool   // close once out is written

	state      state         // which timer runs, and which list holds c
	since      time.Duration // when the timer started, on the loop's clock
	prev, next *conn         // neighbours in the list of c's state
	held       int           // cap(in)+cap(out) last accounted
}

// newServer listens on addr, an IP address and port such as 127.0.0.1:8080
// (port 0 picks a free one), with n event loops and the default limits.
func newServer(addr string, n int) (*server, error) {
	return newServerConfig(addr, defaultConfig(n))
}

// newServerConfig is newServer with cfg's loops, timeouts and limits.
func newServerConfig(addr string, cfg config) (*server, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address: %w (want ip:port, such as 127.0.0.1:8080)", err)
	}
	n := cfg.loops
	if n < 1 {
		return nil, fmt.Errorf("%d loops: want at least 1", n)
	}
	if cfg.maxConns < 1 {
		return nil, fmt.Errorf("max-conns %d: want at least 1", cfg.maxConns)
	}
	for st := stHead; st < nStates; st++ {
		if cfg.timeouts[st] < 0 {
			return nil, fmt.Errorf("%s timeout %v: want 0 (none) or more", stateNames[st], cfg.timeouts[st])
		}
	}
	// Go's runtime makes its netpoller (an epoll fd and an eventfd of its
	// own) the first time any timer is set, such as the one its memory
	// scavenger sleeps on after a GC. evserver sets none, so that could
	// happen while connections hold every fd, and then the runtime throws
	// ("runtime: eventfd failed", seen once in the soak). A timer set now
	// makes the netpoller while fds are free.
	time.AfterFunc(time.Hour, func() {}).Stop()
	s := &server{spare: -1, cfg: cfg, epoch: time.Now(), accept4: syscall.Accept4}
	if s.spare, err = syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("open /dev/null: %w", err)
	}
	for range n {
		l := &loop{srv: s, listener: -1, buf: make([]byte, readSize)}
		s.loops = append(s.loops, l)
		if err := l.open(ap, s); err != nil {
			s.close()
			return nil, err
		}
		ap = netip.MustParseAddrPort(s.addr) // later loops bind the port the first got
	}
	return s, nil
}

// open makes the loop's listener, Poll and Waker. Each loop has its own
// listener on the same port (SO_REUSEPORT), and the kernel spreads new
// connections over them by a hash of the addresses: wrk's 100 connections
// came 52 and 54 (with the loops' own fds) to the two loops. The
// alternative, one listener registered Exclusive in every loop, put all 100
// on one loop: EPOLLEXCLUSIVE wakes the first loop waiting on the
// listener, and the same loop is first each time, so the other cores stay
// idle while connections arrive, and busy loops still see the listener
// ready and race to accept. Its req/s could not be told apart from this
// on a loaded machine; its spread can, and it decides the worst loop's
// share of the load.
func (l *loop) open(ap netip.AddrPort, s *server) (err error) {
	if l.listener, s.addr, err = listen(ap); err != nil {
		return err
	}
	if l.poll, err = epoll.New(); err != nil {
		return err
	}
	if err = l.poll.Registry().Register(l.listener, listenerToken, epoll.Readable|epoll.EdgeTriggered); err != nil {
		return err
	}
	l.waker, err = epoll.NewWaker(l.poll.Registry(), wakerToken)
	return err
}

// listen opens a non-blocking listening socket.
func listen(ap netip.AddrPort) (fd int, addr string, err error) {
	ip := ap.Addr().Unmap()
	family, sa := syscall.AF_INET6, syscall.Sockaddr(&syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()})
	if ip.Is4() {
		family, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}
	}
	fd, err = syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, "", fmt.Errorf("socket: %w", err)
	}
	// SO_REUSEADDR lets a restarted server bind while old connections are
	// in TIME_WAIT; SO_REUSEPORT lets every loop bind the same port. The
	// kernel caps the backlog at net.core.somaxconn.
	err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if err == nil {
		err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soReusePort, 1)
	}
	if err == nil {
		err = syscall.Bind(fd, sa)
	}
	if err == nil {
		err = syscall.Listen(fd, 4096)
	}
	if err == nil {
		sa, err = syscall.Getsockname(fd) // the port, if ap asked for 0
	}
	if err != nil {
		syscall.Close(fd)
		return -1, "", fmt.Errorf("listen on %s: %w", ap, err)
	}
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		addr = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)).String() //nolint:gosec // G115: the kernel's port is 16 bits
	case *syscall.SockaddrInet6:
		addr = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port)).String() //nolint:gosec // G115: the kernel's port is 16 bits
	}
	return fd, addr, nil
}

// soReusePort is SO_REUSEPORT, which package syscall lacks on most
// architectures: 15 on Linux, but 0x200 on mips.
var soReusePort = 0xf

func init() {
	if strings.HasPrefix(runtime.GOARCH, "mips") {
		soReusePort = 0x200
	}
}

// Serve runs every loop until Shutdown, then closes every connection, the
// listeners and the Polls.
func (s *server) Serve() error {
	errs := make(chan error, len(s.loops))
	for _, l := range s.loops {
		go func() { errs <- l.serve() }()
	}
	var err error
	for range s.loops {
		err = errors.Join(err, <-errs)
	}
	return errors.Join(err, s.close())
}

// Shutdown makes Serve return at once, closing every connection. It is safe
// to call from any goroutine; after Serve has returned it reports
// epoll.ErrClosed.
func (s *server) Shutdown() error {
	s.stopNow.Store(true)
	return s.wakeAll()
}

// Drain makes Serve return gracefully: each loop closes its listener,
// closes its idle connections, answers every request already received and
// writes every response owed, closing each connection when it is done, and
// returns when none is left or after cfg.drainTimeout. It is safe to call
// from any goroutine; a second Drain changes nothing, and a Shutdown during
// a drain ends it at once.
func (s *server) Drain() error {
	s.draining.Store(true)
	return s.wakeAll()
}

func (s *server) wakeAll() error {
	var err error
	for _, l := range s.loops {
		err = errors.Join(err, l.waker.Wake())
	}
	return err
}

// serve is one event loop: it waits (see wait), then handles the batch.
func (l *loop) serve() error {
	events := make([]epoll.Event, 0, 256)
	for {
		var err error
		if events, err = l.wait(events); err != nil {
			return err
		}
		l.waits.Add(1)
		l.clock()
		for _, ev := range events {
			switch ev.Token() {
			case listenerToken:
				l.accept()
			case wakerToken:
				if l.srv.stopNow.Load() || !l.srv.draining.Load() {
					return nil // Shutdown
				}
				if !l.draining { // a second Drain changes nothing
					l.startDrain()
				}
			default:
				// A connection closed earlier in this batch (evicted for
				// a newcomer) may still have an event in it: skip it. If
				// the newcomer got the same fd, the event costs it one
				// read that finds nothing.
				c := l.conns[ev.Token()]
				if c == nil {
					continue
				}
				if c.waiting {
					l.flush(c)
				} else {
					l.read(c, ev.IsReadClosed())
				}
				if c.state != stClosed {
					l.account(c)
				}
			}
		}
		l.expire()
		if l.retryAt > 0 && l.now >= l.retryAt {
			l.retryAt = 0
			l.accept()
		}
		if l.draining && (l.nconns == 0 || l.now >= l.drainEnd) {
			return nil // Serve closes what is left
		}
	}
}

// wait returns the next batch of events, waiting until the earliest
// deadline of the loop's connections, or with Forever when none has one.
// After a batch that had events (events still holds it) it first yields
// (runtime.Gosched): the yield gives the next requests time to arrive
// before Wait looks, so a busy loop puts its thread to sleep less often,
// at no extra system call. gnet also looks with Wait(0) before its yield;
// that cut context switches a little more at 100 connections but added
// 0.1-0.2 system calls per request under a lighter load (BENCHMARKS.md). A
// loop that found nothing waits at once, so an idle server does not wake.
func (l *loop) wait(events []epoll.Event) ([]epoll.Event, error) {
	if n := l.nreads; n != l.reads.Load() {
		// Published once per batch: a locked add after every read took
		// 0.4% of the server's CPU samples (perf annotate, wrk -c100).
		l.reads.Store(n)
	}
	if len(events) > 0 {
		runtime.Gosched()
	}
	return l.poll.Wait(events, l.timeout())
}

// startDrain stops accepting and closes what owes nothing. Connections
// owing responses go on until flush has written them and read finds no
// more requests.
func (l *loop) startDrain() {
	l.draining = true
	l.drainEnd = l.now + l.srv.cfg.drainTimeout
	if err := l.poll.Registry().Deregister(l.listener); err != nil {
		log.Print(err)
	}
	// Connections still queued on this listener are reset; they were
	// never accepted, so nothing was asked of this server on them.
	syscall.Close(l.listener)
	l.listener = -1
	for _, c := range l.conns {
		if c != nil && !c.waiting {
			// Requests may have arrived since the last event was handled:
			// read drains the socket, answers them, and closes c once
			// nothing is owed.
			l.read(c, true)
			if c.state != stClosed {
				l.account(c)
			}
		}
	}
}

// accept takes every queued connection: the listener is edge-triggered, so
// one left in the queue would be reported only when another arrives. At
// the connection cap, and when accept4 runs out of fds, the newcomer takes
// the place of the connection that least deserves its fd (see evict), so
// that a flood of slow clients cannot lock out new ones; only when every
// connection of this loop owes responses, or it has none, is the newcomer
// accepted and closed at once, so that the queue drains instead of
// stalling. Another loop's idle connections are not evicted for it. When
// accept4 fails and the queue may not be empty, accept tries again later
// (see retry) rather than wait for the next connection to arrive.
func (l *loop) accept() {
	for l.listener >= 0 {
		fd, err := l.srv.accept(l)
		switch {
		case err == syscall.EAGAIN:
			l.backoff, l.retryAt = 0, 0 // drained: a retry armed before would find nothing
			return
		case err == syscall.EINTR, err == errRefused, isNetworkError(err):
			continue // a signal, no fd for it, or a client that failed while queued
		case err != nil:
			l.retry(err)
			return
		}
		l.backoff = 0
		// The cap is per server, the eviction per loop: a loop evicts
		// only its own connections, which needs no lock.
		if l.srv.conns.Add(1) > int64(l.srv.cfg.maxConns) && !l.evict() {
			l.srv.conns.Add(-1)
			l.srv.full.Add(1) // counted first, so that a client seeing the close sees the count
			syscall.Close(fd)
			continue
		}
		// Each batch of responses is one write; Nagle's algorithm could only
		// hold it back.
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
			log.Printf("TCP_NODELAY: %v", err) // slower, not broken
		}
		if err := l.poll.Registry().Register(fd, epoll.Token(fd), epoll.Readable|epoll.EdgeTriggered); err != nil { //nolint:gosec // G115: fds are never negative
			log.Print(err)
			l.srv.conns.Add(-1)
			syscall.Close(fd)
			continue
		}
		for fd >= len(l.conns) {
			l.conns = append(l.conns[:cap(l.conns)], nil)
		}
		c := &conn{fd: fd}
		l.conns[fd] = c
		l.nconns++
		l.enter(c, stHead) // the header timeout runs from the connect, as nginx's does
		l.accepted.Add(1)
		// A client sends its request right after connecting, so it is
		// often here already when the loop is busy: answer it now, before
		// this young connection can be evicted as an unfinished head by
		// the next newcomer. One read per connection; usually EAGAIN on
		// an idle loop.
		l.read(c, false)
		if c.state != stClosed {
			l.account(c)
		}
	}
}

// isNetworkError reports whether err is one of the errors accept(2) passes
// on from a queued connection that failed before it was accepted, which
// its man page says to treat as EAGAIN and retry: the connection is gone
// from the queue, so the next accept takes the next one.
func isNetworkError(err error) bool {
	switch err {
	case syscall.ECONNABORTED, syscall.EPROTO, syscall.ENETDOWN, syscall.ENETUNREACH,
		syscall.EHOSTDOWN, syscall.EHOSTUNREACH, syscall.ENONET, syscall.ENOPROTOOPT, syscall.EOPNOTSUPP:
		return true
	}
	return false
}

// retry arms a later accept after accept4 failed with the connection still
// queued: out of memory (ENOMEM, ENOBUFS), out of fds with no spare left,
// or refused by a security module (EPERM). Trying again at once would spin
// while the cause lasts, and waiting for the next edge could wait forever
// on a quiet listener, so the loop waits 5 ms, doubled on each failure up
// to 1 s, as net/http's Serve does.
func (l *loop) retry(err error) {
	l.backoff = min(max(2*l.backoff, 5*time.Millisecond), time.Second)
	l.retryAt = l.now + l.backoff
	l.srv.acceptErrs.Add(1)
	log.Printf("accept: %v; trying again in %v", err, l.backoff)
}

// errRefused is accept4's error for a connection closed for want of fds.
var errRefused = errors.New("out of fds: connection refused")

// accept accepts a connection on l's listener. Out of fds, it evicts one
// of l's connections and tries again; with none to evict, it accepts and
// closes the newcomer with the spare fd's number.
func (s *server) accept(l *loop) (int, error) {
	s.acceptMu.Lock()
	defer s.acceptMu.Unlock()
	if s.spare < 0 { // taken by someone else last time: try again
		s.spare, _ = syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	fd, _, err := s.accept4(l.listener, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
	// A few tries: another thread may take the freed fd first.
	for try := 0; (err == syscall.EMFILE || err == syscall.ENFILE) && try < 3 && l.evict(); try++ {
		s.emfile.Add(1)
		fd, _, err = s.accept4(l.listener, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
	}
	if (err != syscall.EMFILE && err != syscall.ENFILE) || s.spare < 0 {
		return fd, err
	}
	syscall.Close(s.spare)
	fd, _, err = s.accept4(l.listener, syscall.SOCK_CLOEXEC)
	if err == nil {
		s.refused.Add(1)
		syscall.Close(fd)
		err = errRefused
	}
	if s.spare, _ = syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0); s.spare < 0 {
		s.spare = -1
	}
	return -1, err
}

// read serves one readiness event of c, usually with one read.
//
// The registration is edge-triggered, and read stops at the first short
// read instead of reading on to EAGAIN: a stream socket's read returns less
// than asked only when its receive queue is empty, and bytes arriving later
// make a new edge, so nothing is left unreported. (TCP's urgent mark also
// ends a read early; HTTP clients do not send urgent data, and one that did
// would stall only itself.) A peer's FIN arrives the same way, but it may
// have come with the data this read takes: then the event says the read
// side is closed, and read goes on to see the end of file. Draining, read
// goes on to EAGAIN too, and then closes c if it owes nothing. Either way
// it stops after maxReadsPerEvent reads, and Reregister reports the rest at
// the next Wait.
func (l *loop) read(c *conn, readClosed bool) {
	answered := false
	for reads := 1; ; reads++ {
		n, errno := rawIO(syscall.SYS_READ, c.fd, l.buf)
		l.nreads++
		switch {
		case errno == syscall.EINTR:
			continue
		case errno == syscall.EAGAIN:
			l.settle(c, answered)
			return
		case errno != 0: // ECONNRESET and the like: the client is gone
			l.closeConn(c)
			return
		case n == 0: // the client is done sending; it is owed nothing, or c would be waiting
			c.closing = true
			l.write(c, nil)
			return
		}
		data := l.buf[:n]
		if len(c.in) > 0 {
			c.in = append(c.in, data...)
			data = c.in
		}
		open, progress := l.respond(c, data)
		answered = answered || progress
		if !open {
			return
		}
		if n < len(l.buf) && !readClosed && !l.draining {
			l.settle(c, answered)
			return
		}
		if reads == maxReadsPerEvent {
			// More may be queued, but reading on would let a client that
			// keeps its socket full hold the loop: its other connections,
			// timers and Wakes would wait until the stream stops.
			if l.reregister(c, epoll.Readable|epoll.EdgeTriggered) && !l.draining {
				l.settle(c, answered) // draining, c is not done
			}
			return
		}
	}
}

// maxReadsPerEvent bounds the reads of one readiness event, each of
// readSize: 256 KiB.
const maxReadsPerEvent = 4

// respond answers the complete request heads in data, c's input (in l.buf
// or c.in), writing each cfg.maxPendingOutput worth of responses before
// answering more, and keeps in c.in what it does not answer. It reports
// whether c is still open with nothing owed, and whether it answered
// anything.
func (l *loop) respond(c *conn, data []byte) (open, answered bool) {
	for {
		var closing bool
		l.out, data, closing = http1.AnswerAll(l.out[:0], data, l.srv.cfg.maxPendingOutput)
		if len(l.out) == 0 {
			break // nothing, or only the start of a head
		}
		answered = true
		if closing {
			c.closing, data = true, nil // nothing after the last response is a request
		}
		if !l.write(c, l.out) {
			if c.state != stClosed {
				// Writing waits for Writable: the heads not answered
				// stay unread-from until flush has sent what is owed.
				c.in = keep(c.in, data)
			}
			return false, true
		}
		if len(data) == 0 {
			break
		}
	}
	c.in = keep(c.in, data)
	return true, answered
}

// keep returns rest, the input not yet answered, as a connection's input
// buffer: in reused, or nil when rest is empty, so that an idle connection
// keeps no buffer. rest may lie in l.buf, which the next read overwrites,
// or in in itself. A buffer four times larger than rest (one that grew for
// a large read of which half a head is left) is given back for a copy of
// rest's size.
func keep(in, rest []byte) []byte {
	switch {
	case len(rest) == 0:
		return nil
	case cap(in) > 4<<10 && cap(in) >= 4*len(rest):
		return bytes.Clone(rest)
	}
	return append(in[:0], rest...)
}

// settle starts the timer c's state calls for, once an event has been
// handled and c is reading: a head in progress keeps the timer it started
// with, however many bytes trickle in, and a new head or an idle spell
// starts a new one. Draining, c is closed instead, since it owes nothing.
func (l *loop) settle(c *conn, answered bool) {
	switch {
	case l.draining:
		l.closeConn(c)
	case len(c.in) > 0:
		if answered || c.state != stHead {
			l.enter(c, stHead)
		}
	case answered:
		l.enter(c, stIdle)
	}
}

// write sends the responses in out with one write system call, keeping in
// c.out what the socket has no room for, and reports whether c is still
// open with nothing left to write.
func (l *loop) write(c *conn, out []byte) bool {
	progress := false
	for len(out) > 0 {
		n, errno := rawIO(syscall.SYS_WRITE, c.fd, out)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno == syscall.EAGAIN:
			// Wait for Writable instead of Readable: reading more
			// requests before their answers can go out would only grow
			// c.out, and a client that sends but never reads must not
			// make the server buffer without bound.
			c.out = append(c.out, out...)
			if !c.waiting {
				c.waiting = true
				l.srv.writeWaits.Add(1)
				l.enter(c, stWrite)
				l.reregister(c, epoll.Writable|epoll.EdgeTriggered)
			} else if progress {
				l.enter(c, stWrite) // the write timeout counts time without progress
			}
			return false
		case errno != 0:
			// EPIPE, ECONNRESET: the client is gone. (Go ignores SIGPIPE
			// for sockets; a C server would pass MSG_NOSIGNAL to send.)
			l.closeConn(c)
			return false
		}
		out, progress = out[n:], true
	}
	if c.closing {
		// A server taking request bodies would first shut down writing and
		// read what the client still sends: closing with unread data sends
		// a reset, which can destroy the response before the client reads it.
		l.closeConn(c)
		return false
	}
	return true
}

// flush writes what c.out holds, once c is writable again, then answers
// the requests held back while it waited: they were read already, so no
// new edge will report them. Then it goes back to reading: Reregister
// reports at once any requests that arrived while writing waited.
func (l *loop) flush(c *conn) {
	out := c.out
	c.out = nil
	if !l.write(c, out) {
		return
	}
	l.enter(c, stWrite) // progress: if the held-back answers fill the socket again, their timer starts now
	if len(c.in) > 0 {
		if open, _ := l.respond(c, c.in); !open {
			return
		}
	}
	c.waiting = false
	if l.draining {
		l.read(c, true)
		return
	}
	if l.reregister(c, epoll.Readable|epoll.EdgeTriggered) {
		l.settle(c, true)
	}
}

// account keeps the figures of the bytes connections hold up to date.
func (l *loop) account(c *conn) {
	if d := cap(c.in) + cap(c.out) - c.held; d != 0 {
		c.held += d
		l.held.Add(int64(d))
		if c.held > l.peakConn {
			l.peakConn = c.held
			l.peak.Store(int64(c.held))
		}
	}
}

// rawIO reads or writes a non-blocking fd with RawSyscall: such a call
// never blocks, so the scheduler need not be told, which syscall.Read and
// Write do at some cost on every call.
func rawIO(trap uintptr, fd int, p []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return int(n), errno
}

// reregister changes c's interest, and closes c if that fails.
func (l *loop) reregister(c *conn, i epoll.Interest) bool {
	if err := l.poll.Registry().Reregister(c.fd, epoll.Token(c.fd), i); err != nil { //nolint:gosec // G115: fds are never negative
		log.Print(err)
		l.closeConn(c)
		return false
	}
	return true
}

// closeConn deregisters and closes c. Closing alone would deregister it
// too, but only if no other process or dup shares the socket.
func (l *loop) closeConn(c *conn) {
	if err := l.poll.Registry().Deregister(c.fd); err != nil {
		log.Print(err)
	}
	syscall.Close(c.fd)
	l.conns[c.fd] = nil
	l.leave(c)
	l.nconns--
	l.srv.conns.Add(-1)
	c.in, c.out = nil, nil
	l.account(c)
}

// close releases everything the server holds; it is safe on a server that
// newServer built only partly.
func (s *server) close() error {
	var errs []error
	for _, l := range s.loops {
		for _, c := range l.conns {
			if c != nil {
				l.closeConn(c)
			}
		}
		if l.waker != nil {
			errs = append(errs, l.waker.Close())
		}
		if l.listener >= 0 {
			errs = append(errs, syscall.Close(l.listener))
		}
		if l.poll != nil {
			errs = append(errs, l.poll.Close())
		}
	}
	if s.spare >= 0 {
		errs = append(errs, syscall.Close(s.spare))
	}
	return errors.Join(errs...)
}
