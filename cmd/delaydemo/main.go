// Command delaydemo is the epoll demo of Carl Fredrik Samson, Asynchronous
// Programming in Rust (Packt, 2024), chapter 4, on this package: "the
// book" below and in cmd/delayserver. It opens five
// non-blocking TCP connections to a delay server and asks for
// GET /{(5-i)*1000}/request-{i} on connection i, registered with token i,
// so the first request waits longest. One goroutine then waits on epoll and
// prints each response as it arrives: in reverse order of sending.
//
//	go run ./cmd/delaydemo                         # starts its own delay server
//	go run ./cmd/delayserver &                     # or, as in the book,
//	go run ./cmd/delaydemo -addr localhost:8080    # talk to a separate one
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/rawpoll/epoll"
	"github.com/rawpoll/epoll/cmd/delayserver/delay"
)

// requests is the number of connections, as in the book.
const requests = 5

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "delaydemo:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("delaydemo", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "", "delay server `host:port`; if empty, start one in-process on a free loopback port")
	step := flags.Duration("step", time.Second, "request i waits (5-i)*`step` on the server")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: delay.Handler(log.New(stderr, "delayserver: ", 0)), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(stderr, "delayserver:", err)
			}
		}()
		defer srv.Close()
		*addr = ln.Addr().String()
		fmt.Fprintf(stdout, "started a delay server on %s (its log goes to stderr)\n", *addr)
	}
	// Name resolution may block (the book's DNS caveat); it happens once,
	// before the event loop.
	raddr, err := net.ResolveTCPAddr("tcp", *addr)
	if err != nil {
		return err
	}

	p, err := epoll.New()
	if err != nil {
		return err
	}
	defer p.Close()

	var conns []*conn
	defer func() {
		for _, c := range conns {
			// Only on the way out: an error has been returned already, or
			// all are closed, and this does nothing.
			_ = c.close(p.Registry())
		}
	}()
	for i := range requests {
		path := fmt.Sprintf("/%d/request-%d", (time.Duration(requests-i) * *step).Milliseconds(), i)
		c, err := dial(raddr, epoll.Token(i), path, stdout)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		if err := p.Registry().Register(c.fd, c.token, epoll.Readable|epoll.EdgeTriggered); err != nil {
			return err
		}
		if err := c.send(p.Registry()); err != nil {
			return err
		}
	}

	// Bounded: a server that never answers ends the demo with an error.
	if err := await(p, conns, time.Now().Add(requests**step+10*time.Second), stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "FINISHED")
	return nil
}

// await is the event loop: it handles events until every connection has its
// response, printing each one as it completes.
func await(p *epoll.Poll, conns []*conn, deadline time.Time, stdout io.Writer) error {
	events := make([]epoll.Event, 0, 10)
	for finished := 0; finished < len(conns); {
		var err error
		// Once the deadline has passed, the timeout is negative: Wait then
		// polls without blocking, and an empty result ends the demo.
		events, err = p.Wait(events, time.Until(deadline))
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return fmt.Errorf("only %d of %d responses by the deadline", finished, len(conns))
		}
		for _, ev := range events {
			c := conns[ev.Token()]
			done, err := c.handle(ev, p.Registry())
			if err != nil {
				return err
			}
			if done {
				fmt.Fprintf(stdout, "RECEIVED: %v\n%s\n------\n", ev, c.response)
				finished++
				// No more events, so none can count twice.
				if err := c.close(p.Registry()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// conn is one request on a non-blocking socket.
type conn struct {
	fd       int
	token    epoll.Token
	addr     string
	path     string
	pending  []byte    // the part of the request not yet written
	writable bool      // whether Writable was added to the registration
	response []byte    // what has been read so far
	out      io.Writer // where "sent" lines go
}

// dial creates a non-blocking socket and starts connecting it to raddr. The
// handshake usually finishes later: the socket then becomes writable, or
// reports an error.
func dial(raddr *net.TCPAddr, token epoll.Token, path string, out io.Writer) (*conn, error) {
	ip, port := raddr.AddrPort().Addr().Unmap(), raddr.Port
	family, sa := syscall.AF_INET6, syscall.Sockaddr(&syscall.SockaddrInet6{Port: port, Addr: ip.As16()})
	if ip.Is4() {
		family, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: port, Addr: ip.As4()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	// EINPROGRESS is the normal answer; EINTR means the same for a
	// non-blocking connect: the kernel carries on.
	if err := syscall.Connect(fd, sa); err != nil && err != syscall.EINPROGRESS && err != syscall.EINTR {
		syscall.Close(fd)
		return nil, fmt.Errorf("connect to %s: %w", raddr, err)
	}
	c := &conn{fd: fd, token: token, addr: raddr.String(), path: path, out: out}
	c.pending = fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, c.addr)
	return c, nil
}

// close deregisters and closes c's socket, deregistering first (a
// registration outlives a close while the file is open elsewhere); later
// calls do nothing.
func (c *conn) close(r *epoll.Registry) error {
	if c.fd < 0 {
		return nil
	}
	err := r.Deregister(c.fd)
	if err2 := syscall.Close(c.fd); err == nil {
		err = err2
	}
	c.fd = -1
	if err != nil {
		return fmt.Errorf("connection %d: closing: %w", c.token, err)
	}
	return nil
}

// handle reacts to one event for c, and reports whether the response is
// complete: the server closes the connection after it (Connection: close).
func (c *conn) handle(ev epoll.Event, r *epoll.Registry) (done bool, err error) {
	if ev.IsError() {
		// A refused connect or a reset: SO_ERROR says which.
		errno, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err == nil && errno != 0 {
			err = syscall.Errno(errno)
		}
		if err != nil {
			return false, fmt.Errorf("connection %d to %s: %w", c.token, c.addr, err)
		}
	}
	if len(c.pending) > 0 {
		if err := c.send(r); err != nil {
			return false, err
		}
	}
	return c.receive()
}

// send writes as much of the request as the socket takes. If that is not
// all of it (the connect may still be in progress, or the buffer is full), it
// adds Writable to the registration and finishes on a later event.
func (c *conn) send(r *epoll.Registry) error {
	for len(c.pending) > 0 {
		n, err := syscall.Write(c.fd, c.pending)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if c.writable {
				return nil // still registered: wait for the next edge
			}
			// Reregister reports the socket at once if it became writable
			// in the meantime, so no wake-up is lost.
			c.writable = true
			return r.Reregister(c.fd, c.token, epoll.Readable|epoll.Writable|epoll.EdgeTriggered)
		case err != nil:
			return fmt.Errorf("connection %d to %s: sending: %w", c.token, c.addr, err)
		}
		c.pending = c.pending[n:]
	}
	fmt.Fprintf(c.out, "token %d: sent GET %s\n", c.token, c.path)
	if !c.writable {
		return nil
	}
	// Back to the book's registration: nothing more to write.
	c.writable = false
	return r.Reregister(c.fd, c.token, epoll.Readable|epoll.EdgeTriggered)
}

// receive reads until the socket has nothing more (EAGAIN): edge-triggered
// epoll reports new data once, so whatever is left unread now would wait
// for the next arrival. It reports whether the server has closed.
func (c *conn) receive() (done bool, err error) {
	var buf [4096]byte
	for {
		n, err := syscall.Read(c.fd, buf[:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false, nil
		case err != nil:
			return false, fmt.Errorf("connection %d to %s: receiving: %w", c.token, c.addr, err)
		case n == 0:
			if len(c.response) == 0 {
				return false, fmt.Errorf("connection %d to %s: closed without a response", c.token, c.addr)
			}
			return true, nil
		}
		c.response = append(c.response, buf[:n]...)
	}
}
