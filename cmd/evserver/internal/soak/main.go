// Command soak runs evserver, built, as a separate process with a lowered
// RLIMIT_NOFILE, and storms it on loopback with every kind of bad client at
// once while well-behaved clients measure: slowloris clients, clients that
// pipeline and never read, clients that reset mid-response (SO_LINGER 0),
// malformed requests, a churn of short connections, and a spell in which
// the server's soft fd limit is lowered to what it holds, so that accept
// hits EMFILE. It checks that every well-behaved request is answered
// correctly, that every bad client is closed within its timeout plus 1 s,
// that the server never stops accepting, and that its fds and RSS come back
// to the idle baseline; it prints a table and exits non-zero on any
// failure. Every phase is bounded in count and time.
//
// It is a program and not a test: the server must be its own process,
// with its own fd limit, the run takes long, and a test behind a flag would
// be a skipped test in every other run. scripts/soak.sh builds both and
// runs it: -short for CI (under a minute), the default for the long form.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/rawpoll/epoll"
)

const (
	ok      = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"
	okClose = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n"
	get     = "GET / HTTP/1.1\r\nHost: soak\r\n\r\n"
)

// load is the size of a run.
type load struct {
	nofile                                             int // the server's RLIMIT_NOFILE, soft and hard
	quiet, storm                                       time.Duration
	wellBehaved, slowloris, neverRead, churn           int
	resetters, malformed                               int
	headerTimeout, idleTimeout, writeTimeout, emfileOn time.Duration
}

var (
	long = load{nofile: 800, quiet: 15 * time.Second, storm: 60 * time.Second,
		wellBehaved: 32, slowloris: 1000, neverRead: 1000, churn: 10_000, resetters: 1000, malformed: 1000,
		headerTimeout: 2 * time.Second, idleTimeout: 3 * time.Second, writeTimeout: 2 * time.Second, emfileOn: 4 * time.Second}
	short = load{nofile: 200, quiet: 4 * time.Second, storm: 20 * time.Second,
		wellBehaved: 8, slowloris: 200, neverRead: 100, churn: 2000, resetters: 200, malformed: 200,
		headerTimeout: 2 * time.Second, idleTimeout: 3 * time.Second, writeTimeout: 2 * time.Second, emfileOn: 3 * time.Second}
)

func main() {
	server := flag.String("server", "", "the evserver binary")
	isShort := flag.Bool("short", false, "the short form, for CI")
	flag.Parse()
	if *server == "" {
		fmt.Fprintln(os.Stderr, "soak: -server is required")
		os.Exit(2)
	}
	ld := long
	if *isShort {
		ld = short
	}
	if err := soak(*server, ld); err != nil {
		fmt.Fprintln(os.Stderr, "soak: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("soak: PASS")
}

// srv is the server process.
type srv struct {
	cmd   *exec.Cmd
	addr  string
	lines chan string // its stdout after "listening on"
}

func startServer(bin string, ld load) (*srv, error) {
	// sh sets the soft and hard limit; the Go runtime in the server raises
	// its soft limit to the hard one, so both must be lowered.
	cmd := exec.Command("/bin/sh", "-c", //nolint:gosec // G204: the binary is the one soak.sh built
		`ulimit -n "$0" && exec "$@"`, strconv.Itoa(ld.nofile), bin,
		"-addr", "127.0.0.1:0", "-loops", "2",
		"-header-timeout", ld.headerTimeout.String(), "-idle-timeout", ld.idleTimeout.String(),
		"-write-timeout", ld.writeTimeout.String(), "-drain-timeout", "5s")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &srv{cmd: cmd, lines: make(chan string, 16)}
	r := bufio.NewScanner(out)
	if !r.Scan() {
		return nil, fmt.Errorf("server printed nothing: %v", cmd.Wait())
	}
	addr, found := strings.CutPrefix(r.Text(), "listening on ")
	if !found {
		return nil, fmt.Errorf("server's first line %q", r.Text())
	}
	s.addr = addr
	go func() {
		for r.Scan() {
			s.lines <- r.Text()
		}
		close(s.lines)
	}()
	return s, nil
}

// stats asks the server (SIGUSR1) to free memory and print its counters.
func (s *srv) stats() (map[string]int64, error) {
	if err := s.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return nil, err
	}
	select {
	case line := <-s.lines:
		return parseStats(line)
	case <-time.After(10 * time.Second):
		return nil, errors.New("no stats line 10 s after SIGUSR1")
	}
}

func parseStats(line string) (map[string]int64, error) {
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "stats" {
		return nil, fmt.Errorf("not a stats line: %q", line)
	}
	m := map[string]int64{}
	for _, kv := range f[1:] {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("stats %q: %w", kv, err)
		}
		m[k] = n
	}
	return m, nil
}

func (s *srv) fds() int {
	e, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
	return len(e)
}

// fdMap is the server's fds and what each is.
func (s *srv) fdMap() map[string]string {
	dir := fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid)
	e, _ := os.ReadDir(dir)
	m := map[string]string{}
	for _, f := range e {
		m[f.Name()], _ = os.Readlink(dir + "/" + f.Name())
	}
	return m
}

// fdsBack compares the server's fds after the storm with its idle ones:
// every idle fd must still be open, and no other. That includes the Go
// runtime's own poller (an epoll fd and an eventfd it opens the first time
// a timer is set, and never closes): evserver has it made before it
// listens, since made during the storm, with every fd taken, it would fail
// and the runtime would throw.
func fdsBack(idle, after map[string]string) error {
	var bad []string
	for fd, what := range after {
		if idle[fd] != what {
			bad = append(bad, fd+"->"+what)
		}
	}
	for fd, what := range idle {
		if after[fd] != what {
			bad = append(bad, "closed: "+fd+"->"+what)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("fds not as when idle: %v", bad)
	}
	return nil
}

// rss is the server's resident set in KiB.
func (s *srv) rss() int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, found := strings.CutPrefix(line, "VmRSS:"); found {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return -1
}

// setNofile sets the server's soft fd limit (prlimit64 on its pid).
func (s *srv) setNofile(soft int) error {
	var old syscall.Rlimit
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(s.cmd.Process.Pid), syscall.RLIMIT_NOFILE, 0, uintptr(unsafe.Pointer(&old)), 0, 0); e != 0 {
		return e
	}
	lim := syscall.Rlimit{Cur: uint64(soft), Max: old.Max} //nolint:gosec // G115: soft is positive
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(s.cmd.Process.Pid), syscall.RLIMIT_NOFILE, uintptr(unsafe.Pointer(&lim)), 0, 0, 0); e != 0 {
		return e
	}
	return nil
}

// latencies of well-behaved requests, and their failures.
type measure struct {
	mu       sync.Mutex
	lat      []time.Duration
	errs     []string
	retries  atomic.Int64 // reused connections closed before a response, retried as net/http does
	requests atomic.Int64
}

func (m *measure) fail(format string, a ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.errs) < 20 {
		m.errs = append(m.errs, fmt.Sprintf(format, a...))
	} else {
		m.errs = append(m.errs[:20], "…")
	}
}

func (m *measure) p(q float64) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.lat) == 0 {
		return 0
	}
	s := slices.Clone(m.lat)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// wellBehaved sends one request at a time on a keep-alive connection until
// stop, checking every response. A reused connection that the server
// closed before answering (an idle connection evicted or timed out as the
// request went out) is retried once on a new one, as net/http's Transport
// does for a GET; a new connection that fails is an error.
func wellBehaved(addr string, stop <-chan struct{}, m *measure) {
	var c net.Conn
	resp := make([]byte, len(ok))
	reused := false
	for {
		select {
		case <-stop:
			if c != nil {
				c.Close()
			}
			return
		default:
		}
		if c == nil {
			var err error
			if c, err = net.DialTimeout("tcp", addr, 10*time.Second); err != nil {
				m.fail("dial: %v", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			reused = false
		}
		t0 := time.Now()
		_ = c.SetDeadline(t0.Add(10 * time.Second))
		_, err := io.WriteString(c, get)
		n := 0
		if err == nil {
			n, err = io.ReadFull(c, resp)
		}
		switch {
		case err == nil && string(resp) == ok:
			m.mu.Lock()
			m.lat = append(m.lat, time.Since(t0))
			m.mu.Unlock()
			m.requests.Add(1)
			reused = true
			continue
		case err == nil:
			m.fail("wrong response %q", resp)
		case reused && n == 0 && !isTimeout(err):
			m.retries.Add(1)
		default:
			m.fail("request on a %s connection: %v after %d bytes", map[bool]string{true: "reused", false: "new"}[reused], err, n)
		}
		c.Close()
		c = nil
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// closer records when a client saw the server close, and how late that
// was against the server's timeout.
type closer struct {
	mu      sync.Mutex
	late    []string
	closed  atomic.Int64 // by the server
	left    atomic.Int64 // still open when the storm ended: closed by the client
	started atomic.Int64
	worst   time.Duration // the longest time to close, less the timeout
}

func (k *closer) check(kind string, took, limit time.Duration) {
	k.closed.Add(1)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.worst = max(k.worst, took-limit)
	if took > limit+time.Second && len(k.late) < 10 {
		k.late = append(k.late, fmt.Sprintf("%s closed after %v, timeout %v", kind, took.Round(time.Millisecond), limit))
	}
}

// slowloris sends a head a line at a time, 300 ms apart, and reconnects
// a second after the server closes it, until stop. (Reconnecting at once
// turned the soak into a connect flood of 5,000 a second that loaded the
// client more than the server, and made closes late by the client's own
// clock.)
func slowloris(addr string, stop <-chan struct{}, ld load, k *closer, dialErrs *atomic.Int64) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			dialErrs.Add(1)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		k.started.Add(1)
		t0 := time.Now()
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\n")
		buf := make([]byte, 512)
	wait:
		for {
			select {
			case <-stop:
				k.left.Add(1)
				c.Close()
				return
			default:
			}
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			_, err := c.Read(buf)
			switch {
			case isTimeout(err):
				_, _ = io.WriteString(c, "X-Slow: 1\r\n")
			case err != nil:
				k.check("slowloris", time.Since(t0), ld.headerTimeout)
				c.Close()
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
				break wait
			}
		}
		c.Close()
	}
}

// watcher reports when the server closes connections that the clients
// never read from: one Poll watches them all for a hang-up.
type watcher struct {
	poll *epoll.Poll
	mu   sync.Mutex
	fds  map[epoll.Token]func()
	next epoll.Token
}

func newWatcher() (*watcher, error) {
	p, err := epoll.New()
	if err != nil {
		return nil, err
	}
	w := &watcher{poll: p, fds: map[epoll.Token]func(){}}
	go func() {
		events := make([]epoll.Event, 0, 128)
		for {
			var err error
			if events, err = p.Wait(events, epoll.Forever); err != nil {
				return // closed
			}
			for _, ev := range events {
				if ev.IsReadClosed() || ev.IsError() {
					w.mu.Lock()
					f := w.fds[ev.Token()]
					delete(w.fds, ev.Token())
					w.mu.Unlock()
					if f != nil {
						f()
					}
				}
			}
		}
	}()
	return w, nil
}

// watch calls closed once the server closes c.
func (w *watcher) watch(c *net.TCPConn, closed func()) error {
	fd, err := epoll.DupFd(c)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.next++
	tok := w.next
	w.fds[tok] = func() { syscall.Close(fd); closed() }
	w.mu.Unlock()
	return w.poll.Registry().Register(fd, tok, epoll.ReadClosed|epoll.EdgeTriggered)
}

// neverRead pipelines batches of 20,000 requests and reads nothing; the
// server must close it within the write timeout (plus 1 s) of the last
// write of its that made progress.
func neverRead(addr string, ld load, w *watcher, k *closer, dialErrs *atomic.Int64) {
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		dialErrs.Add(1)
		return
	}
	defer c.Close()
	k.started.Add(1)
	var last atomic.Int64 // UnixNano of the last write progress
	last.Store(time.Now().UnixNano())
	done := make(chan struct{})
	if err := w.watch(c.(*net.TCPConn), func() {
		k.check("never-read", time.Since(time.Unix(0, last.Load())), ld.writeTimeout)
		close(done)
	}); err != nil {
		dialErrs.Add(1)
		return
	}
	batch := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: soak\r\n\r\n"), 20_000)
	go func() {
		for range 10 {
			for b := batch; len(b) > 0; {
				n, err := c.Write(b[:min(len(b), 16<<10)])
				if err != nil {
					return
				}
				last.Store(time.Now().UnixNano())
				b = b[n:]
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(ld.writeTimeout + ld.idleTimeout + 30*time.Second):
		k.check("never-read", 2*time.Minute, ld.writeTimeout) // reported late
	}
}

// resetter pipelines requests, reads a little of the answer and resets.
func resetter(addr string, errs *atomic.Int64) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		errs.Add(1)
		return
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, strings.Repeat(get, 2000))
	_, _ = io.ReadFull(c, make([]byte, 1000))
	_ = c.(*net.TCPConn).SetLinger(0)
	c.Close()
}

var malformedHeads = []string{
	"hello there\r\n\r\n",
	"GET / HTTP/1.1\nHost: x\n\n",
	"GET / HTTP/1.1\r\nX: " + strings.Repeat("x", 10_000) + "\r\n\r\n",
	"GET /\x00 HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde",
	"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", // a TLS hello
	"GET / HTTP/9.9\r\n\r\n",
	"GET / HTTP/1.1\r\nContent-Length : 36\r\n\r\n",
	"GET / HTTP/1.1\r",
}

// malformed sends a bad request and waits for the server to close: it
// answers with an error and closes, or, for a head that never ends, the
// header timeout does; a head that a lenient parser answers 200 leaves the
// connection idle, and the idle timeout closes it.
func malformed(addr string, i int, ld load, k *closer, dialErrs *atomic.Int64) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		dialErrs.Add(1)
		return
	}
	defer c.Close()
	k.started.Add(1)
	t0 := time.Now()
	_ = c.SetDeadline(t0.Add(ld.headerTimeout + 30*time.Second))
	_, _ = io.WriteString(c, malformedHeads[i%len(malformedHeads)])
	_, _ = io.Copy(io.Discard, c)
	k.check("malformed", time.Since(t0), max(ld.headerTimeout, ld.idleTimeout))
}

// churn opens a connection for one request and closes it.
func churn(addr string, errs *atomic.Int64, refused *atomic.Int64) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		refused.Add(1)
		churnErr(err.Error())
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
	if b, err := io.ReadAll(c); err != nil || string(b) != okClose {
		errs.Add(1)
		churnErr(fmt.Sprintf("%q, %v", b, err))
	}
}

var churnFailures struct {
	sync.Mutex
	first []string
}

// churnErr keeps the first few churn failures for the report.
func churnErr(what string) {
	churnFailures.Lock()
	defer churnFailures.Unlock()
	if len(churnFailures.first) < 5 {
		churnFailures.first = append(churnFailures.first, what)
	}
}

// spread runs n calls of f over d from now, each in its own goroutine,
// with at most par at once, and returns when all have returned.
func spread(n, par int, d time.Duration, f func(i int)) {
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(d * time.Duration(i) / time.Duration(n))); wait > 0 {
			time.Sleep(wait)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

func soak(bin string, ld load) error {
	t0 := time.Now()
	s, err := startServer(bin, ld)
	if err != nil {
		return err
	}
	defer s.cmd.Process.Kill() //nolint:errcheck // only if we fail before SIGTERM
	var failures []string
	fail := func(format string, a ...any) { failures = append(failures, fmt.Sprintf(format, a...)) }

	time.Sleep(200 * time.Millisecond)
	base, err := s.stats()
	if err != nil {
		return err
	}
	baseFds, baseRSS, baseMap := s.fds(), s.rss(), s.fdMap()
	fmt.Printf("soak: server pid %d on %s, RLIMIT_NOFILE %d; idle: %d fds, RSS %d KiB; %v\n",
		s.cmd.Process.Pid, s.addr, ld.nofile, baseFds, baseRSS, base)

	// Quiet: the well-behaved clients alone.
	quiet := &measure{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range ld.wellBehaved {
		wg.Add(1)
		go func() { defer wg.Done(); wellBehaved(s.addr, stop, quiet) }()
	}
	time.Sleep(ld.quiet)
	close(stop)
	wg.Wait()
	fmt.Printf("soak: quiet run: %d requests in %v\n", quiet.requests.Load(), ld.quiet)

	// The storm.
	w, err := newWatcher()
	if err != nil {
		return err
	}
	defer w.poll.Close()
	storm := &measure{}
	stop = make(chan struct{})
	var (
		slow, never, bad                                     closer
		dialErrs, resetErrs, churnErrs, churnRefused, probes atomic.Int64
		peakFds, peakRSS                                     atomic.Int64
		bg                                                   sync.WaitGroup
	)
	for range ld.wellBehaved {
		wg.Add(1)
		go func() { defer wg.Done(); wellBehaved(s.addr, stop, storm) }()
	}
	ramp := ld.storm / 2 // every kind arrives over the first half, then stays
	run := func(f func()) { bg.Add(1); go func() { defer bg.Done(); f() }() }
	run(func() {
		spread(ld.slowloris, ld.slowloris, ramp, func(int) { slowloris(s.addr, stop, ld, &slow, &dialErrs) })
	})
	run(func() {
		// Spread over most of the storm: each makes the server answer
		// some 60,000 requests before the kernel's buffers (a few MB per
		// connection, autotuned) fill and writing blocks.
		spread(ld.neverRead, ld.neverRead, ld.storm*5/6, func(int) { neverRead(s.addr, ld, w, &never, &dialErrs) })
	})
	run(func() { spread(ld.resetters, 16, ld.storm*3/4, func(int) { resetter(s.addr, &resetErrs) }) })
	run(func() {
		spread(ld.malformed, ld.malformed, ld.storm*3/4, func(i int) { malformed(s.addr, i, ld, &bad, &dialErrs) })
	})
	run(func() { spread(ld.churn, 32, ld.storm*3/4, func(int) { churn(s.addr, &churnErrs, &churnRefused) }) })
	sample := func() {
		peakFds.Store(max(peakFds.Load(), int64(s.fds())))
		peakRSS.Store(max(peakRSS.Load(), s.rss()))
	}
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				sample()
			}
		}
	}()
	// The EMFILE spell: the server may open no fd beyond those it holds,
	// so each accept must evict or refuse. A probe connects throughout and
	// must always be served.
	probeErrs := atomic.Int64{}
	run(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			probes.Add(1)
			before := churnErrs.Load() + churnRefused.Load()
			churn(s.addr, &churnErrs, &churnRefused)
			if churnErrs.Load()+churnRefused.Load() > before {
				probeErrs.Add(1)
			}
		}
	})
	time.Sleep(ld.storm / 3)
	held := s.fds()
	if err := s.setNofile(held); err != nil {
		return fmt.Errorf("lowering the server's fd limit: %w", err)
	}
	time.Sleep(ld.emfileOn)
	if err := s.setNofile(ld.nofile); err != nil {
		return fmt.Errorf("restoring the server's fd limit: %w", err)
	}
	time.Sleep(time.Until(t0.Add(ld.quiet + ld.storm)))
	close(stop)
	wg.Wait()
	<-samplerDone
	fmt.Printf("soak: storm over at %v; waiting for the bad clients\n", time.Since(t0).Round(time.Second))
	bg.Wait()

	// Back to idle: every client has gone, so the server must hold exactly
	// its idle fds again, and after freeing memory about its idle RSS.
	deadline := time.Now().Add(ld.headerTimeout + ld.idleTimeout + 10*time.Second)
	for s.fds() > baseFds+2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	after, err := s.stats()
	if err != nil {
		return err
	}
	finalFds, finalRSS, finalMap := s.fds(), s.rss(), s.fdMap()

	// Drain and exit.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	for range s.lines {
	}
	if err := s.cmd.Wait(); err != nil {
		fail("server exit: %v", err)
	}

	// Checks.
	if len(storm.errs) > 0 {
		fail("well-behaved clients saw %d errors: %v", len(storm.errs), storm.errs)
	}
	if len(quiet.errs) > 0 {
		fail("well-behaved clients saw %d errors in the quiet run: %v", len(quiet.errs), quiet.errs)
	}
	if n := probeErrs.Load(); n > 0 {
		fail("%d of %d probe connections were refused or not answered: the server stopped accepting", n, probes.Load())
	}
	if len(churnFailures.first) > 0 {
		fmt.Printf("soak: first churn or probe failures: %q\n", churnFailures.first)
	}
	if n := dialErrs.Load() + resetErrs.Load(); n > 0 {
		fail("%d bad clients could not connect: the server stopped accepting", n)
	}
	for _, k := range []*closer{&slow, &never, &bad} {
		if len(k.late) > 0 {
			fail("bad clients closed late: %v", k.late)
		}
		if k.closed.Load()+k.left.Load() != k.started.Load() {
			fail("%d bad clients started, %d saw their close, %d were open at the end", k.started.Load(), k.closed.Load(), k.left.Load())
		}
	}
	if err := fdsBack(baseMap, finalMap); err != nil {
		fail("server holds %d fds after the storm, %d idle before it: %v", finalFds, baseFds, err)
	}
	if after["conns"] != 0 || after["held_bytes"] != 0 {
		fail("after the storm the server counts %d connections holding %d bytes", after["conns"], after["held_bytes"])
	}
	margin := rssMargin(baseRSS)
	if finalRSS > baseRSS+margin {
		fail("server RSS %d KiB after the storm and FreeOSMemory, idle %d KiB: more than %d KiB over", finalRSS, baseRSS, margin)
	}
	for _, k := range []string{"expired_header", "expired_write", "evicted_emfile"} {
		if after[k] == 0 {
			fail("the storm never made the server count %s", k)
		}
	}
	if after["evicted_idle"]+after["evicted_header"] == after["evicted_emfile"] {
		fail("no eviction at the connection cap (only %d on EMFILE)", after["evicted_emfile"])
	}

	stormSecs := (ld.storm).Seconds()
	fmt.Printf(`
| | quiet run | storm |
|---|---|---|
| well-behaved clients (keep-alive, one request at a time) | %d | %d |
| their requests | %d (%.0f/s) | %d (%.0f/s) |
| their errors | %d | %d |
| their retries (reused connection closed by the server before the request was read) | %d | %d |
| their p50 / p99 / max latency | %v / %v / %v | %v / %v / %v |

| bad clients | count | closed | worst close beyond the timeout |
|---|---|---|---|
| slowloris (a header line every 300 ms, reconnecting) | %d slots, %d connections | %d (%d open at the end) | %v (header timeout %v) |
| pipelining, never reading | %d | %d | %v (write timeout %v, from the last write progress) |
| malformed | %d | %d | %v (header or idle timeout %v) |
| resetting mid-response (SO_LINGER 0) | %d | - | - |
| churn (one request per connection), and probes every 50 ms | %d + %d | errors %d, refused %d | - |

| server (RLIMIT_NOFILE %d, %s) | idle before | peak | after |
|---|---|---|---|
| fds (the runtime's poller among them from the start) | %d | %d | %d |
| RSS (after debug.FreeOSMemory; must be back within %d KiB) | %d KiB | %d KiB | %d KiB |

server counters after the storm: timeouts header %d, idle %d, write %d; evicted idle %d, header %d (of which on EMFILE %d); refused at the cap %d, for want of fds %d; accepted %d.
`,
		ld.wellBehaved, ld.wellBehaved,
		quiet.requests.Load(), float64(quiet.requests.Load())/ld.quiet.Seconds(), storm.requests.Load(), float64(storm.requests.Load())/stormSecs,
		len(quiet.errs), len(storm.errs), quiet.retries.Load(), storm.retries.Load(),
		rd(quiet.p(0.5)), rd(quiet.p(0.99)), rd(quiet.p(1)), rd(storm.p(0.5)), rd(storm.p(0.99)), rd(storm.p(1)),
		ld.slowloris, slow.started.Load(), slow.closed.Load(), slow.left.Load(), rd(slow.worst), ld.headerTimeout,
		never.started.Load(), never.closed.Load(), rd(never.worst), ld.writeTimeout,
		bad.started.Load(), bad.closed.Load(), rd(bad.worst), max(ld.headerTimeout, ld.idleTimeout),
		ld.resetters,
		ld.churn, probes.Load(), churnErrs.Load(), churnRefused.Load(),
		ld.nofile, map[bool]string{true: "short form", false: "long form"}[ld.storm == short.storm],
		baseFds, peakFds.Load(), finalFds, rssMargin(baseRSS), baseRSS, peakRSS.Load(), finalRSS,
		after["expired_header"], after["expired_idle"], after["expired_write"],
		after["evicted_idle"], after["evicted_header"], after["evicted_emfile"], after["refused_full"], after["refused_nofd"], after["accepted"])
	fmt.Printf("soak: %v in all\n", time.Since(t0).Round(time.Second))
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "\n  "))
	}
	return nil
}

// rssMargin is how far above its idle RSS, in KiB, the server may stay
// after the storm and debug.FreeOSMemory: what the storm leaves for good,
// the fd-indexed connection table, goroutine stacks and the runtime's
// own structures, is small and does not grow with the storm's length.
func rssMargin(idle int64) int64 { return max(idle/4, 4<<10) }

func rd(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
