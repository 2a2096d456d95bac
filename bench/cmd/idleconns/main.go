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

	conns := make([]net.Conn, *n)
	errs := make(chan error, *parallel)
	var wg sync.WaitGroup
	next := make(chan int)
	for range *parallel {
		wg.Go(func() {
			for i := range next {
				c, _, err := open(*addr, net.IPv4(127, 0, 0, byte(1+i%*sources))) //nolint:gosec // G115: -sources is checked to be 1..254
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
	fmt.Printf("ready %d\n", *n)

	// Hold until stdin closes or -hold passes: bounded either way.
	closed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(closed) }() // EOF or an error: either ends the hold
	select {
	case <-closed:
	case <-time.After(*hold):
		log.Printf("held %v, closing", *hold)
	}
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
