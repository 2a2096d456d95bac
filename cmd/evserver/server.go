package main

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"strconv"
	"sync/atomic"
	"syscall"

	"github.com/rawpoll/epoll"
)

// Connections are registered with their fd as the token. Fds fit in 31 bits,
// so these two tokens can never be mistaken for a connection.
const (
	listenerToken epoll.Token = 1 << 32
	wakerToken    epoll.Token = 1<<32 + 1
)

const (
	readSize       = 64 << 10 // bytes per read system call
	maxHeaderBytes = 8 << 10  // a request head must end (\r\n\r\n) within this
)

var (
	headEnd = []byte("\r\n\r\n")

	responseOK      = response("200 OK", "hello\n", "")
	responseOKClose = response("200 OK", "hello\n", "Connection: close\r\n")
	badRequest      = response("400 Bad Request", "malformed request\n", "Connection: close\r\n")
	notAllowed      = response("405 Method Not Allowed", "only GET is served\n", "Allow: GET\r\nConnection: close\r\n")
	bodyRefused     = response("413 Content Too Large", "request bodies are not accepted\n", "Connection: close\r\n")
	headTooLarge    = response("431 Request Header Fields Too Large", "request head over 8 KiB\n", "Connection: close\r\n")
)

func response(status, body, headers string) []byte {
	return []byte("HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n" + headers + "\r\n" + body)
}

// server is an HTTP/1.1 server on one event loop. Serve's goroutine owns
// all of its state; other goroutines may only call Shutdown.
type server struct {
	poll     *epoll.Poll
	waker    *epoll.Waker
	listener int
	addr     string        // the address listened on, port 0 resolved
	conns    map[int]*conn // by fd
	buf      []byte        // the read buffer, shared: one connection reads at a time

	writeWaits atomic.Int64 // writes that had to wait for Writable, for the tests
}

// conn is one client connection.
type conn struct {
	fd      int
	in      []byte // bytes received that do not yet make a whole request
	out     []byte // responses not yet written
	waiting bool   // the socket was full: registered for Writable, not Readable
	closing bool   // close once out is written
}

// newServer listens on addr, an IP address and port such as 127.0.0.1:8080
// (port 0 picks a free one), and prepares the event loop.
func newServer(addr string) (*server, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address: %w (want ip:port, such as 127.0.0.1:8080)", err)
	}
	s := &server{listener: -1, conns: map[int]*conn{}, buf: make([]byte, readSize)}
	if err := s.open(ap); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *server) open(ap netip.AddrPort) (err error) {
	if s.listener, s.addr, err = listen(ap); err != nil {
		return err
	}
	if s.poll, err = epoll.New(); err != nil {
		return err
	}
	if err = s.poll.Registry().Register(s.listener, listenerToken, epoll.Readable|epoll.EdgeTriggered); err != nil {
		return err
	}
	s.waker, err = epoll.NewWaker(s.poll.Registry(), wakerToken)
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
	// in TIME_WAIT. The kernel caps the backlog at net.core.somaxconn.
	err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
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
		addr = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)).String()
	case *syscall.SockaddrInet6:
		addr = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port)).String()
	}
	return fd, addr, nil
}

// Serve runs the event loop until Shutdown, then closes every connection,
// the listener and the Poll.
func (s *server) Serve() (err error) {
	defer func() { err = errors.Join(err, s.close()) }()
	events := make([]epoll.Event, 0, 256)
	for {
		if events, err = s.poll.Wait(events, epoll.Forever); err != nil {
			return err
		}
		for _, ev := range events {
			switch ev.Token() {
			case listenerToken:
				s.accept()
			case wakerToken:
				return nil
			default:
				// A Wait reports each fd at most once, so an fd closed
				// earlier in this batch has no event later in it, and a
				// reused fd number cannot receive its predecessor's event.
				s.handle(s.conns[int(ev.Token())])
			}
		}
	}
}

// Shutdown makes Serve return. It is safe to call from any goroutine; after
// Serve has returned it reports epoll.ErrClosed.
func (s *server) Shutdown() error { return s.waker.Wake() }

// accept takes every queued connection. The listener is edge-triggered, so
// one left in the queue would be reported only when another arrives.
func (s *server) accept() {
	for {
		fd, _, err := syscall.Accept4(s.listener, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		switch {
		case err == syscall.EAGAIN:
			return
		case err == syscall.EINTR, err == syscall.ECONNABORTED:
			continue // a signal, or a client that gave up while queued
		case err != nil:
			// Out of fds (EMFILE, ENFILE) or memory: the rest stay queued
			// until the next connection arrives.
			log.Printf("accept: %v", err)
			return
		}
		// Each batch of responses is one write; Nagle's algorithm could only
		// hold it back.
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
		if err := s.poll.Registry().Register(fd, epoll.Token(fd), epoll.Readable|epoll.EdgeTriggered); err != nil {
			log.Print(err)
			syscall.Close(fd)
			continue
		}
		s.conns[fd] = &conn{fd: fd}
	}
}

// handle serves one event for c. Errors and hang-ups need no case of their
// own: the next read or write reports them.
func (s *server) handle(c *conn) {
	if c.waiting {
		s.flush(c)
	} else {
		s.read(c)
	}
}

// read reads c until EAGAIN, answering each batch of requests as it comes:
// edge-triggered epoll reports new data once, so data left unread would wait
// for the next arrival. If the answers do not fit in the socket, read stops
// early and flush waits for Writable; going back to Readable afterwards
// reports the data still unread.
func (s *server) read(c *conn) {
	for {
		n, err := syscall.Read(c.fd, s.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return
		case err != nil: // ECONNRESET and the like: the client is gone
			s.closeConn(c)
			return
		case n == 0: // the client is done sending: answer, then close
			c.closing = true
			s.flush(c)
			return
		}
		c.in = append(c.in, s.buf[:n]...)
		c.answerAll()
		if !s.flush(c) {
			return
		}
	}
}

// answerAll appends a response to c.out for each complete request in c.in,
// in order, which is all that pipelining needs.
func (c *conn) answerAll() {
	rest := c.in
	for !c.closing {
		end := bytes.Index(rest, headEnd)
		if end < 0 {
			if len(rest) > maxHeaderBytes {
				c.out, c.closing = append(c.out, headTooLarge...), true
			}
			break
		}
		resp, keepAlive := answer(rest[:end])
		c.out, c.closing = append(c.out, resp...), !keepAlive
		rest = rest[end+len(headEnd):]
	}
	c.in = c.in[:copy(c.in, rest)]
}

// answer returns the response to a request head (the request line and
// headers, without the blank line) and whether the connection stays open.
// Requests with a body are refused: skipping bodies would need chunked
// decoding, and this server has nothing to do with them.
func answer(head []byte) (resp []byte, keepAlive bool) {
	line, headers, _ := bytes.Cut(head, []byte("\r\n"))
	method, rest, ok1 := bytes.Cut(line, []byte(" "))
	target, proto, ok2 := bytes.Cut(rest, []byte(" "))
	http11 := string(proto) == "HTTP/1.1"
	if !ok1 || !ok2 || len(target) == 0 || !http11 && string(proto) != "HTTP/1.0" {
		return badRequest, false
	}
	if string(method) != "GET" {
		return notAllowed, false
	}
	keepAlive = http11 // HTTP/1.0 closes by default; keep-alive there is not offered
	for len(headers) > 0 {
		var h []byte
		h, headers, _ = bytes.Cut(headers, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return badRequest, false
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Transfer-Encoding")),
			bytes.EqualFold(name, []byte("Content-Length")) && string(value) != "0":
			return bodyRefused, false
		case bytes.EqualFold(name, []byte("Connection")):
			for options := value; len(options) > 0; { // bytes.SplitSeq is newer than go.mod's go 1.23
				var option []byte
				option, options, _ = bytes.Cut(options, []byte(","))
				if bytes.EqualFold(bytes.TrimSpace(option), []byte("close")) {
					keepAlive = false
				}
			}
		}
	}
	if !keepAlive {
		return responseOKClose, false
	}
	return responseOK, true
}

// flush writes c.out and reports whether c is still open with nothing left
// to write. When the socket is full, c waits for Writable instead of
// Readable: reading more requests before their answers can go out would
// only grow c.out, and a client that sends but never reads must not make
// the server buffer without bound.
func (s *server) flush(c *conn) bool {
	for len(c.out) > 0 {
		n, err := syscall.Write(c.fd, c.out)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if !c.waiting {
				s.writeWaits.Add(1)
				c.waiting = true
				s.reregister(c, epoll.Writable|epoll.EdgeTriggered)
			}
			return false
		case err != nil:
			// EPIPE, ECONNRESET: the client is gone. (Go ignores SIGPIPE
			// for sockets; a C server would pass MSG_NOSIGNAL to send.)
			s.closeConn(c)
			return false
		}
		c.out = c.out[:copy(c.out, c.out[n:])] // keep the buffer for next time
	}
	if c.closing {
		// A server taking request bodies would first shut down writing and
		// read what the client still sends: closing with unread data sends
		// a reset, which can destroy the response before the client reads it.
		s.closeConn(c)
		return false
	}
	if c.waiting {
		c.waiting = false
		// Reports at once any requests that arrived while writing waited.
		return s.reregister(c, epoll.Readable|epoll.EdgeTriggered)
	}
	return true
}

// reregister changes c's interest, and closes c if that fails.
func (s *server) reregister(c *conn, i epoll.Interest) bool {
	if err := s.poll.Registry().Reregister(c.fd, epoll.Token(c.fd), i); err != nil {
		log.Print(err)
		s.closeConn(c)
		return false
	}
	return true
}

// closeConn deregisters and closes c. Closing alone would deregister it
// too, but only if no other process or dup shares the socket.
func (s *server) closeConn(c *conn) {
	if err := s.poll.Registry().Deregister(c.fd); err != nil {
		log.Print(err)
	}
	syscall.Close(c.fd)
	delete(s.conns, c.fd)
}

// close releases everything the server holds; it is safe on a server that
// newServer built only partly.
func (s *server) close() error {
	var errs []error
	for _, c := range s.conns {
		s.closeConn(c)
	}
	if s.waker != nil {
		errs = append(errs, s.waker.Close())
	}
	if s.listener >= 0 {
		errs = append(errs, syscall.Close(s.listener))
	}
	if s.poll != nil {
		errs = append(errs, s.poll.Close())
	}
	return errors.Join(errs...)
}
