package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rawpoll/epoll"
	"github.com/rawpoll/epoll/cmd/delayserver/delay"
)

// step is the delay difference used by the tests. The order of responses
// holds as long as the server receives consecutive requests less than a step
// apart; they are sent microseconds apart, so this is a wide margin even on
// a busy machine.
const step = "200ms"

var received = regexp.MustCompile(`(?m)^RECEIVED: \{Token: (\d), Events: [A-Z|]+\}\nHTTP/1.1 200 OK\r\n(?:.+\r\n)*\r\n(.*)\n------$`)

// checkOutput asserts the book's story: five responses in reverse order of
// sending, each carrying its own token's message, then FINISHED.
func checkOutput(t *testing.T, out string) {
	t.Helper()
	var order []string
	for _, m := range received.FindAllStringSubmatch(out, -1) {
		order = append(order, m[1])
		if want := "request-" + m[1]; m[2] != want {
			t.Errorf("token %s received body %q, want %q", m[1], m[2], want)
		}
	}
	if got := strings.Join(order, ","); got != "4,3,2,1,0" {
		t.Errorf("responses arrived for tokens %s, want 4,3,2,1,0; output:\n%s", got, out)
	}
	if !strings.HasSuffix(out, "------\nFINISHED\n") {
		t.Errorf("output does not end with FINISHED:\n%s", out)
	}
}

func TestInProcessServer(t *testing.T) {
	var stdout, stderr strings.Builder
	if err := run([]string{"-step", step}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	checkOutput(t, stdout.String())
	for i := range 5 {
		if want := fmt.Sprintf("ms: request-%d\n", i); !strings.Contains(stderr.String(), want) {
			t.Errorf("server log lacks %q:\n%s", want, &stderr)
		}
	}
}

// TestSeparateServer talks to a delay server started on its own, as in the
// book, and checks the server's log: requests came in the order they were
// sent, with the book's delays scaled by step.
func TestSeparateServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logR, logW := io.Pipe()
	srv := &http.Server{Handler: delay.Handler(log.New(logW, "", 0)), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	defer srv.Close()
	logged := make(chan string, 5)
	go func() {
		for s := bufio.NewScanner(logR); s.Scan(); {
			logged <- s.Text()
		}
	}()

	var stdout strings.Builder
	if err := run([]string{"-addr", ln.Addr().String(), "-step", step}, &stdout, io.Discard); err != nil {
		t.Fatalf("run: %v\n%s", err, &stdout)
	}
	checkOutput(t, stdout.String())
	var lines []string
	for range 5 {
		lines = append(lines, <-logged)
	}
	all := strings.Join(lines, "\n")
	for i := range 5 {
		// "#n" depends on which connection the server read first.
		line := regexp.MustCompile(fmt.Sprintf(`(?m)^#[1-5] - %dms: request-%d$`, (5-i)*200, i))
		if !line.MatchString(all) {
			t.Errorf("no server log line like %v in\n%s", line, all)
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	err = run([]string{"-addr", addr, "-step", "1ms"}, io.Discard, io.Discard)
	if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), addr) {
		t.Errorf("got %v, want connection refused naming %s", err, addr)
	}
}

func TestServerClosesWithoutAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = bufio.NewReader(c).ReadString('\n') // wait for the request; its end or an error will do
			c.Close()
		}
	}()
	err = run([]string{"-addr", ln.Addr().String(), "-step", "1ms"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "closed without a response") {
		t.Errorf("got %v, want an error saying the server closed without a response", err)
	}
}

// TestWriteWaitsForWritability sends a request far larger than the socket
// buffers to a server that does not read yet, so send must stop at EAGAIN
// and finish on Writable events once the server reads.
func TestWriteWaitsForWritability(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	gate := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		<-gate
		r := bufio.NewReaderSize(c, 1<<20)
		line, err := r.ReadString('\n')
		if err != nil {
			served <- err
			return
		}
		for { // headers
			h, err := r.ReadString('\n')
			if err != nil {
				served <- err
				return
			}
			if h == "\r\n" {
				break
			}
		}
		_, err = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%d", len(fmt.Sprint(len(line))), len(line))
		served <- err
	}()

	p, err := epoll.New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	raddr := ln.Addr().(*net.TCPAddr)
	// 64 MiB: more than the client's send buffer and the server's receive
	// buffer can hold (tcp_wmem and tcp_rmem maxima are a few MiB).
	path := "/" + strings.Repeat("x", 64<<20)
	c, err := dial(raddr, 0, path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close(p.Registry())
	if err := p.Registry().Register(c.fd, 0, epoll.Readable|epoll.EdgeTriggered); err != nil {
		t.Fatal(err)
	}
	if err := c.send(p.Registry()); err != nil {
		t.Fatal(err)
	}
	if !c.writable || len(c.pending) == 0 {
		t.Fatalf("a 64 MiB request went out at once (writable=%v, %d bytes pending)", c.writable, len(c.pending))
	}

	close(gate)
	var out strings.Builder
	if err := await(p, []*conn{c}, time.Now().Add(time.Minute), &out); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	wantLine := len("GET " + path + " HTTP/1.1\r\n")
	if want := fmt.Sprintf("\r\n\r\n%d\n------\n", wantLine); !strings.HasSuffix(out.String(), want) {
		t.Errorf("output ends %q, want the server to have read a %d-byte request line", out.String()[max(0, out.Len()-40):], wantLine)
	}
	if c.writable || len(c.pending) != 0 {
		t.Errorf("after the response: writable=%v, %d bytes pending", c.writable, len(c.pending))
	}
}
