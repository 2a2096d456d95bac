package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rawpoll/epoll"
)

// The responses, spelled out independently of the server's own constants.
const (
	ok      = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"
	okClose = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n"
)

// testLoops is how many event loops the tests run: more than one, and more
// than the cores of a small machine, so that loops run side by side and
// also take turns.
const testLoops = 3

// serverFds is how many fds a running server holds besides its connections:
// for each loop its listener, the epoll fd, the eventfd its Close uses and
// the Waker's; and the spare fd.
const serverFds = 4*testLoops + 1

func openFds(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries) - 1 // ReadDir's own fd
}

// waitFor polls until cond holds, for things another goroutine makes true
// (the server closes a connection a moment after its client does).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 30 s", what)
		}
	}
}

// waitFds waits until the process has want open fds.
func waitFds(t testing.TB, want int, why string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d fds open %s", want, why), func() bool { return openFds(t) == want })
}

// baseline returns the number of open fds once the runtime's network poller
// (opened on first use of package net, and never closed) exists.
func baseline(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return openFds(t)
}

// start runs a server on a free port and shuts it down at the end of the
// test, checking that Serve returns nil.
func start(t testing.TB) *server {
	t.Helper()
	s, err := newServer("127.0.0.1:0", testLoops)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Shutdown(); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

func dial(t testing.TB, s *server) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// send writes s to the server, failing the test if the client cannot.
func send(t testing.TB, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// check fails the test on a client-side error.
func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readAll reads until the server closes the connection.
func readAll(t testing.TB, c net.Conn) string {
	t.Helper()
	check(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading until the server closes: %v (got %q)", err, b)
	}
	return string(b)
}

// TestManyPipeliningClients runs 200 connections at once, each sending
// rounds of pipelined requests in randomly split writes, and checks every
// response byte. The last request asks to close, so reading to EOF also
// proves no stray bytes came before it.
func TestManyPipeliningClients(t *testing.T) {
	const clients, rounds, pipelined = 200, 5, 10
	s := start(t)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- client(s.addr, i, rounds, pipelined)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	everyLoopServed(t, s)
}

// everyLoopServed checks that the kernel spread the connections over every
// loop. SO_REUSEPORT picks a listener by a hash of the addresses, so with
// tens of connections a loop without any is as likely as a run of heads
// that long.
func everyLoopServed(t *testing.T, s *server) {
	t.Helper()
	for i, l := range s.loops {
		if l.accepted.Load() == 0 {
			t.Errorf("loop %d of %d accepted no connection", i, len(s.loops))
		}
	}
}

// accepted is the number of connections all loops accepted.
func accepted(s *server) int64 {
	return s.sum(func(l *loop) *atomic.Int64 { return &l.accepted })
}

// reads is the number of read system calls of all loops.
func reads(s *server) int64 {
	return s.sum(func(l *loop) *atomic.Int64 { return &l.reads })
}

// TestPieces sends requests a few bytes at a time, each piece once the
// server has read the one before, so that each arrives alone and makes its
// own readiness event. Reads stop at a short read, so every piece must cost
// exactly one read (reading on to EAGAIN would cost two), and no piece may
// be left unread: the answers must come, and only after the last piece of
// each request.
func TestPieces(t *testing.T) {
	s := start(t)
	c := dial(t, s)
	// accept reads once at once, for a request sent with the connect.
	waitFor(t, "the read at accept", func() bool { return reads(s) == 1 })
	req := "GET /pieces HTTP/1.1\r\nHost: test\r\n\r\n"
	pieces := 0
	for round := range 3 {
		for i := 0; i < len(req); i += 1 + round*3 {
			before := reads(s)
			if _, err := io.WriteString(c, req[i:min(i+1+round*3, len(req))]); err != nil {
				t.Fatal(err)
			}
			pieces++
			waitFor(t, "reading the piece", func() bool { return reads(s) > before })
		}
		check(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		resp := make([]byte, len(ok))
		if _, err := io.ReadFull(c, resp); err != nil || string(resp) != ok {
			t.Fatalf("round %d: %q, %v", round, resp, err)
		}
	}
	if got := reads(s) - 1; got != int64(pieces) {
		t.Errorf("%d pieces took %d reads, want one each", pieces, got)
	}
}

// TestStreamingClientYields: a client that keeps its socket full gets at
// most maxReadsPerEvent reads per readiness event, so that it cannot hold
// its loop (the loop's other connections, timers, Shutdown and the drain
// timeout wait until its stream stops), and the rest of its requests is
// reported again by the next Wait: none is stranded. The loop is driven by
// hand on a socketpair, filled before the loop looks, so the stream is
// longer than the bound whatever the machine's speed.
func TestStreamingClientYields(t *testing.T) {
	s, err := newServerConfig("127.0.0.1:0", testConfig(1))
	check(t, err)
	t.Cleanup(func() { check(t, s.close()) })
	l := s.loops[0]
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	check(t, err)
	closeOnCleanup(t, fds[1]) // fds[0] is the server's: s.close closes it
	check(t, syscall.SetsockoptInt(fds[1], syscall.SOL_SOCKET, syscall.SO_SNDBUF, 1<<20))
	// Large heads, so that their responses fit the socket's buffer unread.
	head := []byte("GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("x", 7<<10) + "\r\n\r\n")
	heads := 0
	for heads*len(head) < (maxReadsPerEvent+2)*readSize {
		if _, err := syscall.Write(fds[1], head); err == syscall.EAGAIN {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		heads++
	}
	if heads*len(head) <= maxReadsPerEvent*readSize {
		t.Fatalf("the socketpair took %d bytes, want more than %d reads", heads*len(head), maxReadsPerEvent)
	}
	// Registered as accept does.
	fd := fds[0]
	check(t, l.poll.Registry().Register(fd, epoll.Token(fd), epoll.Readable|epoll.EdgeTriggered))
	for fd >= len(l.conns) {
		l.conns = append(l.conns[:cap(l.conns)], nil)
	}
	c := &conn{fd: fd}
	l.conns[fd] = c
	l.nconns++
	s.conns.Add(1)
	l.enter(c, stHead)

	events := make([]epoll.Event, 0, 8)
	for event := 0; ; event++ {
		before := l.reads.Load()
		l.read(c, false)
		if n := l.reads.Load() - before; n > maxReadsPerEvent {
			t.Fatalf("event %d: %d reads, want at most %d", event, n, maxReadsPerEvent)
		}
		if events, err = l.poll.Wait(events, 0); err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			break // all read
		}
		if len(events) != 1 || events[0].Token() != epoll.Token(fd) || event > heads {
			t.Fatalf("event %d: Wait reported %d events", event, len(events))
		}
	}
	got := make([]byte, heads*len(ok)+1)
	n, err := syscall.Read(fds[1], got)
	check(t, err)
	if string(got[:n]) != strings.Repeat(ok, heads) {
		t.Errorf("%d heads sent got %d bytes (%d responses), want %d responses", heads, n, bytes.Count(got[:n], []byte("200 OK")), heads)
	}
}

// TestOutOfFds lowers RLIMIT_NOFILE so that the server can hold only a few
// of the connections that queue up. It must take every one off the queue
// instead of leaving them queued: a newcomer takes the fd of a connection
// that has sent no request yet (evict), or with none to evict in its loop
// is accepted and closed. It must serve the ones it holds, and serve new
// ones once fds are free again.
func TestOutOfFds(t *testing.T) {
	const clients, room = 20, 5 // room: fds free for the server
	s := start(t)
	// Client sockets are made first: connecting needs no new fd.
	var fds []int
	for range clients {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		closeOnCleanup(t, fd)
		// A guard against a server that never answers, not a measurement.
		tv := syscall.Timeval{Sec: 30}
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
	}
	ap := netip.MustParseAddrPort(s.addr)
	sa := &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	before := accepted(s)
	low.Cur = uint64(openFds(t) + room)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	restore := func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	defer restore()
	for _, fd := range fds {
		if err := syscall.Connect(fd, sa); err != nil { // the kernel completes it, queued
			t.Fatal(err)
		}
	}
	// Which ones the server keeps depends on the loops the kernel picks
	// and on what else holds fds in the process; none may stay queued.
	waitFor(t, "accepting or refusing every connection", func() bool { return accepted(s)-before+s.refused.Load() >= clients })
	if got := accepted(s) - before + s.refused.Load(); got != clients {
		t.Fatalf("accepted and refused %d connections of %d", got, clients)
	}
	if s.emfile.Load() == 0 {
		t.Errorf("out of fds, no connection was evicted for a newcomer")
	}
	kept := int(s.conns.Load())
	if kept > 2*room || kept == 0 {
		t.Fatalf("kept %d connections, room for %d", kept, room)
	}
	answered := 0
	buf := make([]byte, 4096)
	for i, fd := range fds {
		if _, err := syscall.Write(fd, []byte("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")); err != nil && err != syscall.EPIPE && err != syscall.ECONNRESET {
			t.Fatal(err)
		}
		var got []byte
		for {
			n, err := syscall.Read(fd, buf)
			if err == syscall.ECONNRESET || err == nil && n == 0 {
				break
			}
			if err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
			got = append(got, buf[:n]...)
		}
		switch string(got) {
		case okClose:
			answered++
		case "":
		default:
			t.Fatalf("client %d: %q", i, got)
		}
	}
	if answered != kept {
		t.Errorf("%d clients answered, want the %d the server kept", answered, kept)
	}
	restore()
	c := dial(t, s)
	send(t, c, "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
	if got := readAll(t, c); got != okClose {
		t.Errorf("with fds free again got %q", got)
	}
}

// TestAcceptRetries makes accept4 fail with a client queued. After an error
// that leaves the connection queued (ENOMEM, ENOBUFS, EPERM) the
// edge-triggered listener would not report it again until another client
// came: the loop must try again later by itself, after a Wait (not by
// spinning), and serve the lone client. After a network error, which
// dequeued a failed connection, it tries again at once.
func TestAcceptRetries(t *testing.T) {
	for _, tc := range []struct {
		errno syscall.Errno
		later bool // tried again after a Wait, not at once
	}{
		{syscall.ENOMEM, true},
		{syscall.ENOBUFS, true},
		{syscall.EPERM, true},
		{syscall.EPROTO, false},
		{syscall.ECONNABORTED, false},
	} {
		t.Run(tc.errno.Error(), func(t *testing.T) {
			const failures = 3
			s, err := newServerConfig("127.0.0.1:0", testConfig(1))
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var calls []int64 // the loop's Wait returns at each accept4
			s.accept4 = func(fd, flags int) (int, syscall.Sockaddr, error) {
				mu.Lock()
				defer mu.Unlock()
				calls = append(calls, waits(s))
				if len(calls) <= failures {
					return -1, nil, tc.errno
				}
				return syscall.Accept4(fd, flags)
			}
			serve(t, s)
			c := dial(t, s)
			send(t, c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			if got := readAll(t, c); got != okClose {
				t.Fatalf("the lone client got %q", got)
			}
			mu.Lock()
			defer mu.Unlock()
			// The failures, then the accept that took the client.
			for i := 1; i <= failures; i++ {
				if waited := calls[i] > calls[i-1]; waited != tc.later {
					t.Errorf("accept4 calls at Wait returns %v: call %d after a Wait: %v, want %v", calls, i+1, waited, tc.later)
				}
			}
			want := int64(0)
			if tc.later {
				want = failures
			}
			if n := s.acceptErrs.Load(); n != want {
				t.Errorf("%d accept retries counted, want %d", n, want)
			}
		})
	}
}

// TestAcceptBackoff: each failed accept doubles the wait before the next
// try, from 5 ms up to 1 s, and Wait's timeout ends at the retry.
func TestAcceptBackoff(t *testing.T) {
	l := &loop{srv: &server{cfg: testConfig(1)}, now: time.Minute}
	want := 5 * time.Millisecond
	for range 12 {
		l.retry(syscall.ENOMEM)
		if l.backoff != want || l.retryAt != l.now+want {
			t.Fatalf("back-off %v, retry at %v; want %v, %v", l.backoff, l.retryAt, want, l.now+want)
		}
		if got := l.timeout(); got != want {
			t.Errorf("Wait's timeout %v with only a retry armed, want %v", got, want)
		}
		want = min(2*want, time.Second)
	}
	if want != time.Second {
		t.Fatalf("back-off not capped: %v", want)
	}
}

func closeOnCleanup(t *testing.T, fd int) { t.Cleanup(func() { syscall.Close(fd) }) }

func client(addr string, id, rounds, pipelined int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(id), 0))
	want := []byte(strings.Repeat(ok, pipelined))
	got := make([]byte, len(want))
	for round := range rounds {
		var batch []byte
		for j := range pipelined {
			batch = fmt.Appendf(batch, "GET /%d/%d/%d HTTP/1.1\r\nHost: test\r\nUser-Agent: x\r\n\r\n", id, round, j)
		}
		// Split anywhere, also inside "\r\n\r\n", so requests straddle reads.
		for len(batch) > 0 {
			n := min(len(batch), 1+rng.IntN(len(batch)))
			if _, err := c.Write(batch[:n]); err != nil {
				return err
			}
			batch = batch[n:]
		}
		if _, err := io.ReadFull(c, got); err != nil {
			return fmt.Errorf("client %d round %d: %w", id, round, err)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("client %d round %d: got %q", id, round, got)
		}
	}
	if _, err := io.WriteString(c, "GET /bye HTTP/1.1\r\nHost: test\r\nConnection: keep-alive, close\r\n\r\n"); err != nil {
		return err
	}
	rest, err := io.ReadAll(c)
	if err != nil || string(rest) != okClose {
		return fmt.Errorf("client %d: after Connection: close got %q, %v; want %q then EOF", id, rest, err, okClose)
	}
	return nil
}

// TestGoHTTPClient checks the responses are valid HTTP/1.1 to net/http's
// client, and that it keeps reusing one connection.
func TestGoHTTPClient(t *testing.T) {
	s := start(t)
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	reused := 0
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if info.Reused {
			reused++
		}
	}}
	const requests = 50
	for i := range requests {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/%d", s.addr, i), nil)
		resp, err := client.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(body) != "hello\n" || resp.ContentLength != 6 {
			t.Fatalf("request %d: %s %q %v", i, resp.Status, body, err)
		}
	}
	if reused != requests-1 {
		t.Errorf("%d of %d requests reused the connection, want %d", reused, requests, requests-1)
	}
}

// TestRequestsThatEndTheConnection sends requests this server refuses or
// answers once; each gets its response, then the server closes.
func TestRequestsThatEndTheConnection(t *testing.T) {
	s := start(t)
	for _, tc := range []struct{ name, send, want string }{
		{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", okClose},
		{"Connection: close", "GET / HTTP/1.1\r\nHost: test\r\nconnection:  Close \r\n\r\nGET /never HTTP/1.1\r\nHost: test\r\n\r\n", okClose},
		{"POST", "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n"},
		{"body", "GET / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 413 Content Too Large\r\n"},
		{"chunked", "GET / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 413 Content Too Large\r\n"},
		{"garbage", "hello there\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
		{"no target", "GET  HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
		{"HTTP/2", "GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
		{"header without colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
		{"head too large", "GET / HTTP/1.1\r\nX: " + strings.Repeat("x", 9000), "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
		{"good then bad", "GET / HTTP/1.1\r\nHost: test\r\n\r\nPUT / HTTP/1.1\r\nHost: test\r\n\r\n", ok + "HTTP/1.1 405 Method Not Allowed\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, c)
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("got %q, want it to start with %q", got, tc.want)
			}
			if tc.want != okClose && tc.want != ok && !strings.Contains(got, "Connection: close\r\n") {
				t.Errorf("refusal %q lacks Connection: close", got)
			}
		})
	}
}

// TestHangUps has clients leave in every way mid-conversation. The server
// must close each connection and keep serving.
func TestHangUps(t *testing.T) {
	base := baseline(t)
	s := start(t)

	// Half-close mid-request: the server closes without an answer.
	c := dial(t, s)
	send(t, c, "GET / HT")
	check(t, c.CloseWrite())
	if got := readAll(t, c); got != "" {
		t.Errorf("after a half-close mid-request got %q, want EOF", got)
	}
	c.Close()

	// Half-close after whole requests: they are answered first.
	c = dial(t, s)
	send(t, c, "GET /1 HTTP/1.1\r\nHost: test\r\n\r\nGET /2 HTTP/1.1\r\nHost: test\r\n\r\nGET /3")
	check(t, c.CloseWrite())
	if got := readAll(t, c); got != ok+ok {
		t.Errorf("after a half-close got %q, want two responses then EOF", got)
	}
	c.Close()

	// Close mid-request, reset mid-request, and close while the server
	// waits to write responses that will never be read.
	for _, leave := range []func(c *net.TCPConn){
		func(c *net.TCPConn) { send(t, c, "GET / HTTP/1.1\r\nHo"); c.Close() },
		func(c *net.TCPConn) { send(t, c, "GET / HTTP/1.1\r\nHo"); check(t, c.SetLinger(0)); c.Close() },
		func(c *net.TCPConn) {
			before := s.writeWaits.Load()
			go func() { _, _ = c.Write(bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: test\r\n\r\n"), 200_000)) }() // 14 MB of responses; ends with the close below
			waitFor(t, "waiting for Writable", func() bool { return s.writeWaits.Load() > before })
			c.Close()
		},
	} {
		leave(dial(t, s))
	}
	waitFds(t, base+serverFds, "once every client left")

	// Still serving.
	c = dial(t, s)
	send(t, c, "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
	if got := readAll(t, c); got != okClose {
		t.Errorf("after the hang-ups got %q", got)
	}
}

// TestSlowReader pipelines far more responses than the socket buffers hold
// (the client's receive buffer grows only as it reads) and reads nothing
// until the server has had to wait for Writable. Every
// response must still arrive, in order: the server stops reading while it
// cannot write, and resumes when Reregister reports the unread requests.
func TestSlowReader(t *testing.T) {
	const requests = 200_000 // about 14 MB of responses
	s := start(t)
	c := dial(t, s)
	writeErr := make(chan error, 1)
	go func() {
		req := []byte("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
		_, err := c.Write(bytes.Repeat(req, requests))
		writeErr <- err
	}()
	waitFor(t, "waiting for Writable", func() bool { return s.writeWaits.Load() > 0 })
	check(t, c.SetReadDeadline(time.Now().Add(60*time.Second)))
	r := bufio.NewReaderSize(c, 1<<20)
	resp := make([]byte, len(ok))
	for i := range requests {
		if _, err := io.ReadFull(r, resp); err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if string(resp) != ok {
			t.Fatalf("response %d: %q", i, resp)
		}
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
}

// TestShutdownClosesEverything shuts a server down with connections idle,
// mid-request and waiting to write, and checks it left no fd open.
func TestShutdownClosesEverything(t *testing.T) {
	base := baseline(t)
	s, err := newServer("127.0.0.1:0", testLoops)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()

	var clients []*net.TCPConn
	for i := range 30 {
		c := dial(t, s)
		switch i % 3 {
		case 0: // idle after a request
			send(t, c, "GET / HTTP/1.1\r\nHost: test\r\n\r\n")
			_, err := io.ReadFull(c, make([]byte, len(ok)))
			check(t, err)
		case 1: // mid-request
			send(t, c, "GET / HTTP/1.1\r\n")
		case 2: // a backlog of unread responses
			go func() { _, _ = c.Write(bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: test\r\n\r\n"), 100_000)) }() // ends with Shutdown
		}
		clients = append(clients, c)
	}
	waitFor(t, "waiting for Writable", func() bool { return s.writeWaits.Load() >= 10 })
	waitFds(t, base+serverFds+2*len(clients), "with every client connected")
	everyLoopServed(t, s)

	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if got := openFds(t); got != base+len(clients) {
		t.Errorf("after Shutdown %d fds open, want %d: the clients' only", got, base+len(clients))
	}
	for _, c := range clients {
		check(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("client after Shutdown: %v, want EOF or a reset", err)
		}
		c.Close()
	}
	if got := openFds(t); got != base {
		t.Errorf("%d fds open at the end, want %d", got, base)
	}
	if err := s.Shutdown(); !errors.Is(err, epoll.ErrClosed) {
		t.Errorf("Shutdown after Serve returned: %v, want ErrClosed", err)
	}
}

func TestBadAddress(t *testing.T) {
	for _, addr := range []string{"localhost:8080", "127.0.0.1", "127.0.0.1:99999"} {
		if _, err := newServer(addr, 1); err == nil || !strings.Contains(err.Error(), "ip:port") {
			t.Errorf("newServer(%q): %v, want an error asking for ip:port", addr, err)
		}
	}
	base := baseline(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = newServer(ln.Addr().String(), 2)
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("newServer on a port in use: %v, want EADDRINUSE naming the address", err)
	}
	if got := openFds(t); got != base+1 {
		t.Errorf("a failed newServer left %d fds open", got-base-1)
	}
}

func TestIPv6(t *testing.T) {
	s, err := newServer("[::1]:0", 2)
	if err != nil {
		t.Fatalf("listening on the IPv6 loopback: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	defer func() {
		check(t, s.Shutdown())
		check(t, <-done)
	}()
	if !strings.HasPrefix(s.addr, "[::1]:") {
		t.Errorf("addr %q", s.addr)
	}
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send(t, c, "GET / HTTP/1.0\r\n\r\n")
	if got := readAll(t, c); got != okClose {
		t.Errorf("got %q", got)
	}
}

// TestRun runs the command as main does, and stops it as a signal would:
// the server drains (the client's idle keep-alive connection is closed at
// once) and prints its counters.
// TestMain runs evserver itself when TestNetpollerMadeAtStart starts the
// test binary as a server, before the testing package sets any timer.
func TestMain(m *testing.M) {
	if os.Getenv("EVSERVER_TEST_CHILD") == "1" {
		os.Args = []string{"evserver", "-addr", "127.0.0.1:0", "-loops", "2"}
		main()
		return
	}
	os.Exit(m.Run())
}

// TestNetpollerMadeAtStart: a server process holds the runtime's netpoller
// (its own epoll fd) beside its two loops' once it listens, before any
// connection can take the last fd. Made later, at the first timer any part
// of the runtime sets, it can fail for want of an fd, and the runtime
// throws. Counted in a child process: this one's tests set timers.
func TestNetpollerMadeAtStart(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "EVSERVER_TEST_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	if line, err := bufio.NewReader(out).ReadString('\n'); !strings.HasPrefix(line, "listening on ") {
		t.Fatalf("the server printed %q, %v", line, err)
	}
	dir := fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	epolls := 0
	for _, fd := range fds {
		if target, _ := os.Readlink(dir + "/" + fd.Name()); target == "anon_inode:[eventpoll]" {
			epolls++
		}
	}
	if epolls != 3 {
		t.Errorf("%d epoll fds once listening, want 3: the two loops' and the runtime's netpoller", epolls)
	}
}

func TestRun(t *testing.T) {
	out, stdout := io.Pipe()
	stop := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-addr", "127.0.0.1:0", "-loops", "2", "-idle-timeout", "1h"}, stdout, io.Discard, stop)
		stdout.Close()
	}()
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("no output: %v; run returned %v", err, <-done)
	}
	addr, found := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !found {
		t.Fatalf("first line %q", line)
	}
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		rest <- string(b)
	}()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	resp, err := (&http.Client{Transport: transport}).Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	stop <- os.Interrupt
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if got := <-rest; !strings.HasPrefix(got, "stats conns=0 accepted=1 ") {
		t.Errorf("after the drain printed %q, want the counters with 0 connections open of 1", got)
	}
}
