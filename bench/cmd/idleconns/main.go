// Command idleconns opens many HTTP/1.1 keep-alive connections to a server,
// sends one GET on each and reads the answer, then holds them all open and
// idle, so that the server's resident memory per idle connection can be
// measured. It prints "ready N" once all N are established and idle, and
// closes them when its standard input closes or -hold has passed.
//
// Loopback has one ephemeral port range per (source, destination) pair, so
// the connections are spread over -sources source addresses 127.0.0.1,
// 127.0.0.2, ...; only loopback destinations are accepted.
//
// With -kind it holds other clients instead, one kind per run, to measure
// what each costs a server (scripts/bench.sh's memcost lines):
//
//   - idle: one GET answered, then nothing (the default, as above);
//   - halfhead: the first -pad+32 bytes of a request head that never ends;
//   - nonreading: -pipeline GETs in one write, up to -batches times, never
//     reading the answers. A write that does not finish within -block-after
//     means the server has stopped reading; the connection sends no more.
//
// The ready line then adds what was sent, as name=value: the half head's
// length (head_bytes), or the KiB sent over all connections (sent_kb), how
// many connections' writes blocked (blocked) and the flags that shaped it.
//
// On release it checks the idle and halfhead connections and reports on
// standard error how many the server had closed or answered meanwhile,
// since a figure taken over connections the server dropped is not theirs.
//
// With -requests it makes a fixed number of requests over the connections
// instead, and exits.
//
// With -dump it sends instead a few kinds of request (keep-alive and
// pipelined GETs, Connection: close, HTTP/1.0, another method, a malformed
// head), each on its own connection, and writes the raw bytes the server
// answered until it closed, so that two servers' protocols can be compared
// byte for byte.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "server address (loopback only)")
	n := flag.Int("n", 10000, "connections to open")
	sources := flag.Int("sources", 8, "source addresses 127.0.0.1 .. 127.0.0.N to spread the connections over")
	parallel := flag.Int("parallel", 64, "connections being opened at once")
	hold := flag.Duration("hold", 2*time.Minute, "longest time to hold the connections")
	dump := flag.Bool("dump", false, "send a few kinds of request and write the raw responses to stdout")
	dumpGet := flag.Bool("dump-get", false, "like -dump, but only the benchmark's protocol: pipelined keep-alive GETs, the last with Connection: close")
	requests := flag.Int("requests", 0, "instead of holding the connections idle, make this many requests over them, one at a time on each, then exit")
	kind := flag.String("kind", "idle", "the client each connection is: idle, halfhead or nonreading")
	pad := flag.Int("pad", 4096, "halfhead: bytes of the unfinished field value")
	pipeline := flag.Int("pipeline", 20000, "nonreading: GETs in each write")
	batches := flag.Int("batches", 8, "nonreading: most writes of -pipeline GETs per connection")
	blockAfter := flag.Duration("block-after", time.Second, "nonreading: a write not done by then has blocked")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("idleconns: ")

	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatal(err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		log.Fatalf("%s is not a loopback address", *addr)
	}
	if *sources < 1 || *sources > 254 {
		log.Fatalf("-sources %d: want 1..254", *sources)
	}
	if *dump || *dumpGet {
		cases := dumpCases
		if *dumpGet {
			cases = cases[:1]
		}
		if err := dumpResponses(*addr, cases, os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
	}

	var start func(net.Conn) error
	var halfHead []byte
	switch *kind {
	case "idle":
	case "halfhead":
		if *pad < 0 || *pad > 64<<10 {
			log.Fatalf("-pad %d: want 0..65536", *pad)
		}
		halfHead = append([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: "), bytes.Repeat([]byte("a"), *pad)...)
		start = func(c net.Conn) error { _, err := c.Write(halfHead); return err }
	case "nonreading":
		if *pipeline < 1 || *pipeline > 100000 || *batches < 1 || *batches > 16 || *blockAfter <= 0 {
			log.Fatalf("-pipeline %d, -batches %d, -block-after %v: want 1..100000, 1..16 and a positive duration", *pipeline, *batches, *blockAfter)
		}
		start = func(net.Conn) error { return nil } // after all are open: see stall
	default:
		log.Fatalf("-kind %q: want idle, halfhead or nonreading", *kind)
	}
	if start != nil && *requests > 0 {
		log.Fatalf("-kind %s holds connections: -requests wants -kind idle", *kind)
	}

	conns := make([]net.Conn, *n)
	errs := make(chan error, *parallel)
	var wg sync.WaitGroup
	next := make(chan int)
	for range *parallel {
		wg.Go(func() {
			for i := range next {
				source := net.IPv4(127, 0, 0, byte(1+i%*sources)) //nolint:gosec // G115: -sources is checked to be 1..254
				var c net.Conn
				var err error
				if start == nil {
					c, _, err = open(*addr, source)
				} else {
					c, err = dial(*addr, source, start)
				}
				if err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					return
				}
				conns[i] = c
			}
		})
	}
	var openErr error
feed:
	for i := range *n {
		select {
		case next <- i:
		case openErr = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if openErr == nil && len(errs) > 0 {
		openErr = <-errs
	}
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	if openErr != nil {
		log.Print(openErr)
		os.Exit(1)
	}
	if *requests > 0 {
		if err := roundTrips(conns, *requests); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("done %d\n", *requests)
		return
	}
	switch *kind {
	case "nonreading":
		sent, blocked, err := stall(conns, bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), *pipeline), *batches, *blockAfter)
		if err != nil {
			log.Print(err)
			os.Exit(1) // the deferred closes do not run; exiting closes the fds
		}
		fmt.Printf("ready %d sent_kb=%d blocked=%d pipeline=%d batches=%d block_after_ms=%d\n",
			*n, sent>>10, blocked, *pipeline, *batches, blockAfter.Milliseconds())
	case "halfhead":
		fmt.Printf("ready %d head_bytes=%d\n", *n, len(halfHead))
	default:
		fmt.Printf("ready %d\n", *n)
	}

	// Hold until stdin closes or -hold passes: bounded either way.
	closed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(closed) }() // EOF or an error: either ends the hold
	select {
	case <-closed:
	case <-time.After(*hold):
		log.Printf("held %v, closing", *hold)
	}
	if *kind != "nonreading" { // a non-reading connection has answers to read: no telling
		log.Printf("%d connections held, %d closed or answered by the server", *n, dropped(conns))
	}
}

// stall sends batch on each connection up to batches times, never reading,
// all connections at once, and stops a connection at its first write not
// done within blockAfter: the server has stopped reading it. It returns
// the bytes sent in all and how many connections blocked.
func stall(conns []net.Conn, batch []byte, batches int, blockAfter time.Duration) (sent int64, blocked int, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			var n int64
			var stopped bool
			var werr error
			for range batches {
				if werr = c.SetWriteDeadline(time.Now().Add(blockAfter)); werr != nil {
					break
				}
				k, e := c.Write(batch)
				n += int64(k)
				if errors.Is(e, os.ErrDeadlineExceeded) {
					stopped = true
					break
				}
				if werr = e; werr != nil {
					break
				}
			}
			if werr == nil {
				werr = c.SetWriteDeadline(time.Time{})
			}
			mu.Lock()
			defer mu.Unlock()
			sent += n
			if stopped {
				blocked++
			}
			if werr != nil && err == nil {
				err = fmt.Errorf("connection %d: %w", i, werr)
			}
		})
	}
	wg.Wait()
	return sent, blocked, err
}

// dropped counts the connections the server has closed, or sent anything
// to, since they were opened: a read within a short deadline that gets
// anything but the deadline. The checks run at once, so that the deadline
// bounds them all.
func dropped(conns []net.Conn) int {
	var n atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			var b [1]byte
			if err := c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err == nil {
				if _, err = c.Read(b[:]); errors.Is(err, os.ErrDeadlineExceeded) {
					return
				}
			}
			n.Add(1)
		})
	}
	wg.Wait()
	return int(n.Load())
}

// roundTrips makes n requests in all, spread over conns, each connection
// waiting for one answer before it sends the next request: a fixed amount
// of work, so that the server's system calls can be counted per request.
// The requests that opened the connections are not counted.
func roundTrips(conns []net.Conn, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(conns))
	for i, c := range conns {
		share := n / len(conns)
		if i < n%len(conns) {
			share++
		}
		wg.Go(func() {
			for range share {
				if _, err := roundTrip(c); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// dumpCases are the requests of -dump. Each ends with one the server must
// answer by closing, so that everything it sends is read. The first is the
// benchmark's protocol, all that -dump-get sends: the C floor speaks only
// that, the Go servers share evserver's parser and answer every case alike.
var dumpCases = []string{
	"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\n",
	"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n", // no Host
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n\r\nnot a request\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\n\n",
	"GET / HTTP/2.0\r\n\r\n",
}

func dumpResponses(addr string, cases []string, w io.Writer) error {
	for _, req := range cases {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			return err
		}
		err = c.SetDeadline(time.Now().Add(10 * time.Second))
		if err == nil {
			_, err = io.WriteString(c, req)
		}
		var resp []byte
		if err == nil {
			resp, err = io.ReadAll(c)
		}
		c.Close()
		if err != nil {
			return fmt.Errorf("request %q: %w", req, err)
		}
		fmt.Fprintf(w, "== %q\n%s\n", req, resp)
	}
	return nil
}

var request = []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")

// dial connects from source and runs start on the connection, within a
// deadline, which it then clears.
func dial(addr string, source net.IP, start func(net.Conn) error) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: source}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	err = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err == nil {
		err = start(c)
	}
	if err == nil {
		err = c.SetDeadline(time.Time{})
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// open connects from source, sends one GET and reads one complete response,
// which it returns raw.
func open(addr string, source net.IP) (net.Conn, []byte, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: source}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		c.Close()
		return nil, nil, err
	}
	resp, err := roundTrip(c)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, resp, nil
}

// roundTrip sends the request and reads a response with a Content-Length.
func roundTrip(c net.Conn) ([]byte, error) {
	if _, err := c.Write(request); err != nil {
		return nil, err
	}
	var raw bytes.Buffer
	r := bufio.NewReader(io.TeeReader(c, &raw))
	length := -1
	for first := true; ; first = false {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("reading the response head: %w", err)
		}
		if first && !strings.HasPrefix(line, "HTTP/1.1 200 ") {
			return nil, fmt.Errorf("status line %q", line)
		}
		if line == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			if length, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
				return nil, fmt.Errorf("Content-Length: %w", err)
			}
		}
	}
	if length < 0 {
		return nil, errors.New("response without Content-Length")
	}
	if _, err := io.CopyN(io.Discard, r, int64(length)); err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	// The bufio.Reader may have read ahead; a keep-alive server sends
	// nothing more, so the raw bytes are exactly one response.
	return raw.Bytes()[:raw.Len()-r.Buffered()], nil
}
