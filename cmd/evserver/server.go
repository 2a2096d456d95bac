package main

import (
	"errors"
	"fmt"
	"log"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

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

// server is an HTTP/1.1 server on several event loops, each a goroutine
// with its own Poll, listener and connections: loops share nothing, so
// they need no locks. Other goroutines may only call Shutdown.
type server struct {
	addr  string // the address listened on, port 0 resolved
	loops []*loop

	// spare is an fd held to be closed when accept runs out of fds. Every
	// accept holds acceptMu, so that no other loop's accept takes the
	// spare's number in the moment it is free.
	acceptMu sync.Mutex
	spare    int

	// Figures for the tests.
	writeWaits atomic.Int64 // writes that had to wait for Writable
	refused    atomic.Int64 // connections accepted and closed for want of fds
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

	// Figures for the tests, per loop so that loops share no cache line.
	accepted atomic.Int64 // connections
	reads    atomic.Int64 // read system calls
}

// conn is one client connection. An idle one holds no buffer: bytes are
// kept only while a request is incomplete or its answer could not be sent.
type conn struct {
	fd      int
	in      []byte // the start of a request that is not yet whole
	out     []byte // responses the socket had no room for
	waiting bool   // out is not empty: registered for Writable, not Readable
	closing bool   // close once out is written
}

// newServer listens on addr, an IP address and port such as 127.0.0.1:8080
// (port 0 picks a free one), with n event loops.
func newServer(addr string, n int) (*server, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address: %w (want ip:port, such as 127.0.0.1:8080)", err)
	}
	if n < 1 {
		return nil, fmt.Errorf("%d loops: want at least 1", n)
	}
	s := &server{spare: -1}
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

// Shutdown makes Serve return. It is safe to call from any goroutine; after
// Serve has returned it reports epoll.ErrClosed.
func (s *server) Shutdown() error {
	var err error
	for _, l := range s.loops {
		err = errors.Join(err, l.waker.Wake())
	}
	return err
}

// serve is one event loop. It always waits with Forever, which returns at
// once when events are ready: looking first with timeout 0 (gnet's way)
// spares the scheduler's bookkeeping on busy Waits but ends every busy
// spell with an empty call, which measured more system calls per request.
func (l *loop) serve() error {
	events := make([]epoll.Event, 0, 256)
	for {
		var err error
		if events, err = l.poll.Wait(events, epoll.Forever); err != nil {
			return err
		}
		for _, ev := range events {
			switch ev.Token() {
			case listenerToken:
				l.accept()
			case wakerToken:
				return nil
			default:
				// A Wait reports each fd at most once, so an fd closed
				// earlier in this batch has no event later in it, and a
				// reused fd number cannot receive its predecessor's event.
				c := l.conns[ev.Token()]
				if c.waiting {
					l.flush(c)
				} else {
					l.read(c, ev.IsReadClosed())
				}
			}
		}
	}
}

// accept takes every queued connection: the listener is edge-triggered, so
// one left in the queue would be reported only when another arrives. Out of
// fds, accept4 closes the server's spare one to accept the next connection
// and close it at once, so that the queue drains instead of stalling.
func (l *loop) accept() {
	for {
		fd, err := l.srv.accept4(l.listener)
		switch {
		case err == syscall.EAGAIN:
			return
		case err == syscall.EINTR, err == syscall.ECONNABORTED, err == errRefused:
			continue // a signal, a client that gave up while queued, or no fd
		case err != nil:
			// Out of memory, say, or of fds with no spare left: the rest
			// stay queued until the next connection arrives.
			log.Printf("accept: %v", err)
			return
		}
		// Each batch of responses is one write; Nagle's algorithm could only
		// hold it back.
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
			log.Printf("TCP_NODELAY: %v", err) // slower, not broken
		}
		if err := l.poll.Registry().Register(fd, epoll.Token(fd), epoll.Readable|epoll.EdgeTriggered); err != nil { //nolint:gosec // G115: fds are never negative
			log.Print(err)
			syscall.Close(fd)
			continue
		}
		for fd >= len(l.conns) {
			l.conns = append(l.conns[:cap(l.conns)], nil)
		}
		l.conns[fd] = &conn{fd: fd}
		l.accepted.Add(1)
	}
}

// errRefused is accept4's error for a connection closed for want of fds.
var errRefused = errors.New("out of fds: connection refused")

// accept4 accepts a connection on listener, or out of fds, accepts and
// closes it with the spare fd's number.
func (s *server) accept4(listener int) (int, error) {
	s.acceptMu.Lock()
	defer s.acceptMu.Unlock()
	if s.spare < 0 { // taken by someone else last time: try again
		s.spare, _ = syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	fd, _, err := syscall.Accept4(listener, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
	if (err != syscall.EMFILE && err != syscall.ENFILE) || s.spare < 0 {
		return fd, err
	}
	syscall.Close(s.spare)
	fd, _, err = syscall.Accept4(listener, syscall.SOCK_CLOEXEC)
	if err == nil {
		syscall.Close(fd)
		s.refused.Add(1)
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
// side is closed, and read goes on to see the end of file.
func (l *loop) read(c *conn, readClosed bool) {
	for {
		n, errno := rawIO(syscall.SYS_READ, c.fd, l.buf)
		l.reads.Add(1)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno == syscall.EAGAIN:
			return
		case errno != 0: // ECONNRESET and the like: the client is gone
			l.closeConn(c)
			return
		case n == 0: // the client is done sending: answer, then close
			c.closing = true
			l.flush(c)
			return
		}
		data := l.buf[:n]
		if len(c.in) > 0 {
			c.in = append(c.in, data...)
			data = c.in
		}
		var rest []byte
		l.out, rest, c.closing = answerAll(l.out[:0], data, 0)
		c.in = append(c.in[:0], rest...) // copy: rest may be in l.buf
		if len(c.in) == 0 {
			c.in = nil // an idle connection keeps no buffer
		}
		if !l.write(c, l.out) || n < len(l.buf) && !readClosed {
			return
		}
	}
}

// write sends the responses in out with one write system call, keeping in
// c.out what the socket has no room for, and reports whether c is still
// open with nothing left to write.
func (l *loop) write(c *conn, out []byte) bool {
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
				l.reregister(c, epoll.Writable|epoll.EdgeTriggered)
			}
			return false
		case errno != 0:
			// EPIPE, ECONNRESET: the client is gone. (Go ignores SIGPIPE
			// for sockets; a C server would pass MSG_NOSIGNAL to send.)
			l.closeConn(c)
			return false
		}
		out = out[n:]
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

// flush writes what c.out holds, once c is writable again, then goes back
// to reading: Reregister reports at once any requests that arrived while
// writing waited.
func (l *loop) flush(c *conn) {
	out := c.out
	c.out = nil
	if l.write(c, out) && c.waiting {
		c.waiting = false
		l.reregister(c, epoll.Readable|epoll.EdgeTriggered)
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
