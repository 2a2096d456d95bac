package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/rawpoll/epoll"
)

// startConfig runs a server with cfg on a free port, shut down at the end of
// the test unless the test drained it.
func startConfig(t testing.TB, cfg config) (*server, <-chan error) {
	t.Helper()
	s, err := newServerConfig("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, serve(t, s)
}

// serve runs s, shut down at the end of the test unless the test drained it.
func serve(t testing.TB, s *server) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Shutdown(); err != nil && !errors.Is(err, epoll.ErrClosed) {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return done
}

// testConfig has n loops and timeouts long enough never to fire in a test
// that does not ask for one.
func testConfig(n int) config {
	cfg := defaultConfig(n)
	for st := stHead; st < nStates; st++ {
		cfg.timeouts[st] = time.Hour
	}
	return cfg
}

func waits(s *server) int64 {
	return s.sum(func(l *loop) *atomic.Int64 { return &l.waits })
}

func held(s *server) int64 {
	return s.sum(func(l *loop) *atomic.Int64 { return &l.held })
}

// dialSmallBuffer connects with a small receive buffer, so that the
// server's writes to a client that does not read block soon.
func dialSmallBuffer(t testing.TB, s *server) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	c, err := d.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// flood pipelines requests on c without reading, until the server closes
// c or the test ends; the error says how writing ended.
func flood(c net.Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		batch := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 20_000)
		for range 50 {
			if _, err := c.Write(batch); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

// expectEOF reads until the server closes c, and returns what came.
func expectEOF(t testing.TB, c net.Conn, why string) string {
	t.Helper()
	check(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("%s: reading until the server closes: %v (got %q)", why, err, b)
	}
	return string(b)
}

// TestDeadlineLists checks the lists' order on the loop's clock, without
// a server: a restarted timer goes to the back, the earliest front decides
// Wait's timeout, and no connection means Forever.
func TestDeadlineLists(t *testing.T) {
	cfg := testConfig(1)
	cfg.timeouts[stHead], cfg.timeouts[stIdle], cfg.timeouts[stWrite] = 100, 300, 0 // write: none
	l := &loop{srv: &server{cfg: cfg}}
	if got := l.timeout(); got != epoll.Forever {
		t.Fatalf("no connections: timeout %v, want Forever", got)
	}
	a, b, w := &conn{fd: 1}, &conn{fd: 2}, &conn{fd: 3}
	l.now = 10
	l.enter(a, stIdle) // deadline 310
	l.now = 20
	l.enter(b, stIdle) // 320
	l.enter(w, stWrite)
	if got := l.timeout(); got != 290 {
		t.Errorf("timeout %v, want 290 (a's deadline 310 at 20)", got)
	}
	l.now = 30
	l.enter(a, stIdle) // restarted: 330, behind b
	if l.lists[stIdle].front != b || l.lists[stIdle].back != a || b.next != a || a.prev != b {
		t.Errorf("after a restart the idle list is not b, a")
	}
	l.enter(a, stHead) // 130
	if got := l.timeout(); got != 100 {
		t.Errorf("timeout %v, want 100 (a's head deadline 130 at 30)", got)
	}
	l.now = 500
	if got := l.timeout(); got != 0 {
		t.Errorf("deadline passed: timeout %v, want 0", got)
	}
	for _, c := range []*conn{a, b, w} {
		l.leave(c)
	}
	for st := range l.lists {
		if l.lists[st] != (connList{}) {
			t.Errorf("list %s not empty after every connection left", stateNames[st])
		}
	}
	if got := l.timeout(); got != epoll.Forever {
		t.Errorf("timeout %v once every connection left, want Forever", got)
	}
}

// TestIdleServerSleeps counts Wait returns: a server with no connections
// makes none, and one with an idle keep-alive connection none until its
// idle timeout, which then closes it with one wake-up.
func TestIdleServerSleeps(t *testing.T) {
	cfg := testConfig(testLoops)
	cfg.timeouts[stIdle] = 300 * time.Millisecond
	s, _ := startConfig(t, cfg)
	time.Sleep(200 * time.Millisecond)
	if n := waits(s); n != 0 {
		t.Errorf("a server without connections returned from Wait %d times, want 0", n)
	}
	c := dial(t, s)
	send(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := make([]byte, len(ok)); check2(io.ReadFull(c, got)) != nil || string(got) != ok {
		t.Fatalf("response %q", got)
	}
	before := waits(s)
	if got := expectEOF(t, c, "idle"); got != "" {
		t.Errorf("idle connection got %q before it was closed", got)
	}
	if n := s.expired[stIdle].Load(); n != 1 {
		t.Errorf("%d idle timeouts, want 1", n)
	}
	// One Wait return for the expiry; a few more only if a loop's Wait
	// returned early by the clock's rounding (epoll_pwait's milliseconds).
	if n := waits(s) - before; n < 1 || n > 3 {
		t.Errorf("%d Wait returns from the response to the idle timeout, want 1 to 3 (no ticking)", n)
	}
	before = waits(s)
	time.Sleep(200 * time.Millisecond)
	if n := waits(s) - before; n != 0 {
		t.Errorf("%d Wait returns once the last connection was closed, want 0", n)
	}
}

func check2(_ int, err error) error { return err }

// TestHeaderTimeout: a connection that sends nothing, one that sends half
// a head, and one that trickles a head a byte at a time are each closed by
// the header timeout, which bytes arriving do not restart. A connection
// that completed its head is not.
func TestHeaderTimeout(t *testing.T) {
	cfg := testConfig(testLoops)
	cfg.timeouts[stHead] = 200 * time.Millisecond
	s, _ := startConfig(t, cfg)
	// The complete head goes first, right after its connect: sent after
	// the other dials, a stall of the test of 200 ms between its connect
	// and its send would let its timer run out (the likeliest cause of one
	// failure, seen in a parallel -race run and never since).
	good := dial(t, s)
	send(t, good, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	silent, half, trickle := dial(t, s), dial(t, s), dial(t, s)
	send(t, half, "GET / HTTP/1.1\r\nHost: x\r\n")
	closed := make(chan string, 1)
	go func() { closed <- expectEOF(t, trickle, "trickle") }()
	const trickleMax = 4000 // under every head limit: only the timer can close it
	sent := 0
	head := "GET / HTTP/1.1\r\n" + strings.Repeat("X", trickleMax)
trickling:
	for ; sent < trickleMax; sent++ {
		select {
		case got := <-closed:
			if got != "" {
				t.Errorf("trickling client got %q", got)
			}
			break trickling
		case <-time.After(10 * time.Millisecond):
		}
		if _, err := io.WriteString(trickle, head[sent:sent+1]); err != nil {
			break // reset by the close
		}
	}
	if sent == trickleMax {
		t.Fatalf("a head trickled a byte every 10 ms for %d bytes was never closed", sent)
	}
	for _, c := range []net.Conn{silent, half} {
		if got := expectEOF(t, c, "header"); got != "" {
			t.Errorf("got %q before the close", got)
		}
	}
	if n := s.expired[stHead].Load(); n != 3 {
		t.Errorf("%d header timeouts, want 3", n)
	}
	// Still open, after the three timeouts: it answers a second request.
	send(t, good, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if got := readAll(t, good); got != ok+okClose {
		t.Errorf("the client that sent a whole head got %q", got)
	}
}

// TestWriteTimeout: a client that pipelines and never reads is closed
// once writing to it has made no progress for the write timeout.
func TestWriteTimeout(t *testing.T) {
	cfg := testConfig(testLoops)
	cfg.timeouts[stWrite] = 200 * time.Millisecond
	s, _ := startConfig(t, cfg)
	c := dialSmallBuffer(t, s)
	done := flood(c)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the server read 1,000,000 requests without a response read")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a client that never reads was not closed in 60 s")
	}
	if n := s.expired[stWrite].Load(); n != 1 {
		t.Errorf("%d write timeouts, want 1", n)
	}
	if n := s.expired[stHead].Load() + s.expired[stIdle].Load(); n != 0 {
		t.Errorf("%d other timeouts, want 0", n)
	}
	waitFor(t, "the connection closed", func() bool { return s.conns.Load() == 0 })
	if n := held(s); n != 0 {
		t.Errorf("%d bytes held with no connection", n)
	}
}

// TestPendingOutputBound: a client that pipelines 20,000 requests at a
// time and never reads makes the server hold at most the pending-output
// bound plus one read and a head; the bytes come from the server's own
// accounting of its buffers' capacities.
func TestPendingOutputBound(t *testing.T) {
	cfg := testConfig(1)
	s, _ := startConfig(t, cfg)
	c := dialSmallBuffer(t, s)
	done := flood(c)
	waitFor(t, "waiting for Writable", func() bool { return s.writeWaits.Load() > 0 })
	c.Close()
	if err := <-done; err == nil {
		t.Error("the flood's writes succeeded after the client closed")
	}
	waitFor(t, "the connection closed", func() bool { return s.conns.Load() == 0 && held(s) == 0 })
	// The most the connection ever held, from its first read to its close.
	// c.out is under maxPendingOutput plus one response, c.in under one
	// read plus a head in progress, and the allocator rounds each large
	// buffer up to whole 8 KiB pages: 32 KiB covers a head of up to 8 KiB,
	// a response and the rounding.
	bound := int64(cfg.maxPendingOutput + readSize + 32<<10)
	if n := s.loops[0].peak.Load(); n > bound || n == 0 {
		t.Errorf("a client that never reads made the server hold up to %d bytes, want 1 to %d", n, bound)
	} else {
		t.Logf("a client that never reads made the server hold up to %d bytes (bound %d)", n, bound)
	}

	// Half a head after a large read: the buffer that grew for the read
	// is given back. The start of a head is held first, so that the large
	// read is appended to it (read together, the two would need no
	// buffer), and the rest, under 64 KiB, is one loopback segment.
	c = dial(t, s)
	half := "GET / HTTP/1.1\r\nX: " + strings.Repeat("x", 2000)
	send(t, c, "GET / HTTP/1.1\r\nHost: x\r\nX: y")
	waitFor(t, "the start of the head held", func() bool { return held(s) > 0 })
	send(t, c, "\r\n\r\n"+strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 2000)+half)
	r := make([]byte, len(ok)*2001)
	if _, err := io.ReadFull(c, r); err != nil {
		t.Fatal(err)
	}
	// The count lags the responses: wait until it is the half's buffer's
	// (or a larger one's), not the start's.
	waitFor(t, "the half head held", func() bool { return held(s) >= int64(len(half)) })
	if n := held(s); n > 4<<10 {
		t.Errorf("a connection holding %d bytes of a head keeps a %d-byte buffer", len(half), n)
	} else {
		t.Logf("a connection holding %d bytes of a head keeps a %d-byte buffer", len(half), n)
	}
}

// TestEviction fills a one-loop server's cap of 4 and connects more: the
// newcomer takes the place of the connection that has waited longest, idle
// or with an unfinished head; when every connection owes responses, the
// newcomer is accepted and closed.
func TestEviction(t *testing.T) {
	cfg := testConfig(1)
	cfg.maxConns = 4
	s, _ := startConfig(t, cfg)
	connect := func() *net.TCPConn {
		before := accepted(s) + s.full.Load()
		c := dial(t, s)
		waitFor(t, "the connection accepted", func() bool { return accepted(s)+s.full.Load() > before })
		return c
	}
	var idle [2]*net.TCPConn
	for i := range idle {
		idle[i] = connect()
		send(t, idle[i], "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if got := make([]byte, len(ok)); check2(io.ReadFull(idle[i], got)) != nil {
			t.Fatal("no response")
		}
	}
	h1, h2 := connect(), connect()
	send(t, h1, "GET / HT")
	send(t, h2, "GET / HT")
	for i, want := range []struct {
		victim      net.Conn
		idle, heads int64
	}{{idle[0], 1, 0}, {idle[1], 2, 0}, {h1, 2, 1}} {
		connect()
		expectEOF(t, want.victim, "evicted")
		if n, m := s.evicted[stIdle].Load(), s.evicted[stHead].Load(); n != want.idle || m != want.heads {
			t.Fatalf("newcomer %d: %d idle and %d heads evicted, want %d and %d", i, n, m, want.idle, want.heads)
		}
	}
	send(t, h2, "TP/1.1\r\nHost: x\r\n\r\n")
	if got := make([]byte, len(ok)); check2(io.ReadFull(h2, got)) != nil || string(got) != ok {
		t.Errorf("the unevicted head got %q", got)
	}

	// A head older than the idle connection goes first: a busy client's
	// connection, idle between requests, is young.
	cfg.maxConns = 2
	s, _ = startConfig(t, cfg)
	old := connect()
	send(t, old, "GET / HT")
	young := connect()
	send(t, young, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := make([]byte, len(ok)); check2(io.ReadFull(young, got)) != nil {
		t.Fatal("no response")
	}
	connect()
	expectEOF(t, old, "evicted")
	if n, m := s.evicted[stIdle].Load(), s.evicted[stHead].Load(); n != 0 || m != 1 {
		t.Fatalf("%d idle and %d heads evicted, want the older head only", n, m)
	}

	// A server whose connections all owe responses.
	s, _ = startConfig(t, cfg)
	for range 2 {
		c := dialSmallBuffer(t, s)
		before := s.writeWaits.Load()
		flood(c)
		waitFor(t, "waiting for Writable", func() bool { return s.writeWaits.Load() > before })
	}
	c := dial(t, s)
	if got := expectEOF(t, c, "refused at the cap"); got != "" {
		t.Errorf("refused newcomer got %q", got)
	}
	if n := s.full.Load(); n != 1 {
		t.Errorf("%d refused at the cap, want 1", n)
	}
	if n := s.evicted[stIdle].Load() + s.evicted[stHead].Load(); n != 0 {
		t.Errorf("%d evicted, want 0: both connections owe responses", n)
	}
}

// TestEvictionIsPerLoop: loops share nothing, so at the cap a newcomer
// on a loop with nothing of its own to evict is closed, though another
// loop holds an idle connection. SO_REUSEPORT spreads newcomers by a hash,
// so one of 64 lands on the empty loop but for odds of 2^-64.
func TestEvictionIsPerLoop(t *testing.T) {
	cfg := testConfig(2)
	cfg.maxConns = 1
	s, _ := startConfig(t, cfg)
	c := dial(t, s)
	send(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := make([]byte, len(ok)); check2(io.ReadFull(c, got)) != nil {
		t.Fatal("no response")
	}
	for i := 0; i < 64 && s.full.Load() == 0; i++ {
		before := accepted(s) + s.full.Load()
		dial(t, s)
		waitFor(t, "the connection accepted", func() bool { return accepted(s)+s.full.Load() > before })
	}
	if n := s.full.Load(); n != 1 {
		t.Errorf("%d newcomers closed at the cap, want 1: the first on the loop without the connection", n)
	}
	if n := s.conns.Load(); n != 1 {
		t.Errorf("%d connections open, want the cap, 1", n)
	}
}

// TestDrain drains a server with a client whose pipelined requests are
// held back (its responses wait for it to read), one that sent a request
// just before, one idle and one halfway through a head. Every request
// received before Drain is answered, then each connection is closed, and
// Serve returns with no fd left.
func TestDrain(t *testing.T) {
	const burst = 1000 // 18 KB
	base := baseline(t)
	cfg := testConfig(testLoops)
	cfg.maxPendingOutput = 4 << 10
	cfg.drainTimeout = time.Minute
	s, err := newServerConfig("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()

	// Chunks until the server has to wait for Writable, and one more,
	// which it has not read. After each, the client waits until its send
	// queue is empty, when the server's kernel has every byte: then the
	// chunks after the wait fit in its receive buffer, and every request
	// is received before Drain.
	pipelined := dialSmallBuffer(t, s)
	requests := 0
	for more := 2; more > 0 && requests < 2_000_000; requests += burst {
		send(t, pipelined, strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", burst))
		waitFor(t, "the chunk delivered", func() bool { return unsent(t, pipelined) == 0 })
		if s.writeWaits.Load() > 0 {
			more--
		}
	}
	if s.writeWaits.Load() == 0 {
		t.Fatalf("%d requests sent, and the server never had to wait for Writable", requests)
	}
	idle := dial(t, s)
	send(t, idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := make([]byte, len(ok)); check2(io.ReadFull(idle, got)) != nil {
		t.Fatal("no response")
	}
	half := dial(t, s)
	send(t, half, "GET / HTTP/1.1\r\n")
	late := dial(t, s)
	waitFor(t, "every client connected", func() bool { return s.conns.Load() == 4 })
	send(t, late, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")

	check(t, s.Drain())
	for _, c := range []struct {
		conn net.Conn
		want string
	}{{idle, ""}, {half, ""}, {late, ok}, {pipelined, strings.Repeat(ok, requests)}} {
		if got := expectEOF(t, c.conn, "drain"); got != c.want {
			t.Errorf("got %d bytes (%d responses), want %d", len(got), strings.Count(got, "200 OK"), len(c.want))
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := net.Dial("tcp", s.addr); err == nil {
		t.Error("the drained server still accepts connections")
	}
	for _, c := range []net.Conn{idle, half, late, pipelined} {
		c.Close()
	}
	if got := openFds(t); got != base {
		t.Errorf("%d fds open after the drain, want %d", got, base)
	}
}

// TestDrainTwice: a second Drain while the loops drain changes nothing:
// the requests received are still answered, as Drain promises. (It used
// to end the drain at once, but only on loops that had seen the first.)
func TestDrainTwice(t *testing.T) {
	const burst = 1000
	cfg := testConfig(1)
	cfg.maxPendingOutput = 4 << 10
	cfg.drainTimeout = time.Minute
	s, _ := startConfig(t, cfg) // its cleanup checks what Serve returns
	// As in TestDrain: every request is in the server's kernel, and the
	// server waits for the client to read.
	c := dialSmallBuffer(t, s)
	requests := 0
	for more := 2; more > 0 && requests < 2_000_000; requests += burst {
		send(t, c, strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", burst))
		waitFor(t, "the chunk delivered", func() bool { return unsent(t, c) == 0 })
		if s.writeWaits.Load() > 0 {
			more--
		}
	}
	// Each Drain wakes the loop once: nothing else can, as it waits to
	// write to a client that is not reading.
	for range 2 {
		before := waits(s)
		check(t, s.Drain())
		waitFor(t, "the loop woken", func() bool { return waits(s) > before })
	}
	if got := expectEOF(t, c, "drain"); got != strings.Repeat(ok, requests) {
		t.Errorf("got %d responses, want %d", strings.Count(got, "200 OK"), requests)
	}
}

// unsent is the number of bytes in c's send queue not yet acknowledged:
// on loopback, not yet in the server's receive queue.
func unsent(t testing.TB, c *net.TCPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var errno syscall.Errno
	check(t, rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
	}))
	if errno != 0 {
		t.Fatalf("TIOCOUTQ: %v", errno)
	}
	return n
}

// TestDrainTimeout drains a server whose one client never reads its
// responses: Serve returns after the drain timeout, with the client's
// connection closed.
func TestDrainTimeout(t *testing.T) {
	base := baseline(t)
	cfg := testConfig(testLoops)
	cfg.drainTimeout = 200 * time.Millisecond
	s, err := newServerConfig("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	c := dialSmallBuffer(t, s)
	flooding := flood(c)
	waitFor(t, "waiting for Writable", func() bool { return s.writeWaits.Load() > 0 })
	check(t, s.Drain())
	select {
	case err := <-done:
		check(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("Serve still running 60 s after Drain, with a drain timeout of 200 ms")
	}
	if err := <-flooding; err == nil {
		t.Error("the client's writes all succeeded: its connection was not closed")
	}
	c.Close()
	if got := openFds(t); got != base {
		t.Errorf("%d fds open after the drain, want %d", got, base)
	}
}
