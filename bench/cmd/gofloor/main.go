// Command gofloor is bench/cfloor/cfloor.c written in Go, function for
// function: the least a Go program does to serve the benchmark's keep-alive
// GETs. scripts/bench.sh climbs from the C floor to cmd/evserver with it,
// one change a rung, to show where evserver's CPU per request goes:
//
//	gofloor                  cfloor in Go: raw system calls, cfloor's loose parser
//	gofloor -pkg             waits and registers with this module's Poll
//	gofloor -pkg -strict     parses with evserver's parser (internal/http1)
//
// Like cfloor, each loop (one per P) has its own SO_REUSEPORT listener and
// epoll instance and shares nothing; connections are edge-triggered, read
// once per event and answered with one write per batch of responses, and
// there are no timeouts, no connection cap and no bound on buffered output.
// Without -pkg a loop waits with RawSyscall6(epoll_pwait) and no timeout,
// which the scheduler never sees: the loop keeps its P while it sleeps, and
// when it has slept 10 ms sysmon's preemption signal ends the wait with
// EINTR, which the loop retries. That is the cheapest wait Go can make,
// and fit only for a process with nothing else to run; the package's Wait
// sleeps raw for at most 10 ms and then lets the scheduler have the P.
//
// It prints "listening on ADDR" once every listener is bound, and runs
// until it is killed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"runtime"
	"syscall"
	"unsafe"

	"github.com/rawpoll/epoll"
	"github.com/rawpoll/epoll/bench/internal/proto"
)

const (
	readSize       = 64 << 10 // bytes per read, as evserver's and cfloor's
	maxHeaderBytes = 8 << 10  // cfloor's head limit
	maxEvents      = 256
	soReusePort    = 0xf     // SO_REUSEPORT on amd64, where bench.sh runs
	epollET        = 1 << 31 // EPOLLET, which package syscall declares negative
	interest       = syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET
)

func response(status, body, fields string) []byte {
	return fmt.Appendf(nil, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n%s", status, len(body), fields, body)
}

// cfloor's responses, byte for byte.
var (
	okResp       = response("200 OK", "hello\n", "")
	okClose      = response("200 OK", "hello\n", "Connection: close\r\n")
	badRequest   = response("400 Bad Request", "malformed request\n", "Connection: close\r\n")
	notAllowed   = response("405 Method Not Allowed", "only GET is served\n", "Allow: GET\r\nConnection: close\r\n")
	bodyRefused  = response("413 Content Too Large", "request bodies are not accepted\n", "Connection: close\r\n")
	headTooLarge = response("431 Request Header Fields Too Large", "request head over 8 KiB\n", "Connection: close\r\n")
)

var usePkg, strict bool

type conn struct {
	fd               int
	closing, waiting bool
	in, out          []byte // only while a request or its answer is incomplete
}

type loop struct {
	epfd, listener int
	poll           *epoll.Poll // with -pkg, in place of epfd
	conns          []*conn     // by fd
	buf, out       []byte
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "`ip:port` to listen on (IPv4); port 0 picks a free one")
	flag.BoolVar(&usePkg, "pkg", false, "wait and register with this module's Poll instead of raw system calls")
	flag.BoolVar(&strict, "strict", false, "parse with evserver's parser instead of cfloor's")
	flag.Parse()
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().Is4() {
		log.Fatalf("-addr %q: want an IPv4 ip:port", *addr)
	}
	for range runtime.GOMAXPROCS(0) {
		l := &loop{buf: make([]byte, readSize)}
		l.listener, ap = listen(ap) // the first binds the port the others share
		if usePkg {
			l.poll, err = epoll.New()
		} else {
			l.epfd, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		}
		if err != nil {
			log.Fatal(err)
		}
		l.ctl(syscall.EPOLL_CTL_ADD, l.listener, syscall.EPOLLIN|epollET)
		go l.serve()
	}
	fmt.Printf("listening on %s\n", ap)
	select {}
}

func listen(ap netip.AddrPort) (int, netip.AddrPort) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err == nil {
		err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	}
	if err == nil {
		err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soReusePort, 1)
	}
	if err == nil {
		err = syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()})
	}
	if err == nil {
		err = syscall.Listen(fd, 4096)
	}
	var sa syscall.Sockaddr
	if err == nil {
		sa, err = syscall.Getsockname(fd)
	}
	if err != nil {
		log.Fatalf("listen on %s: %v", ap, err)
	}
	return fd, netip.AddrPortFrom(ap.Addr(), uint16(sa.(*syscall.SockaddrInet4).Port)) //nolint:gosec // G115: the kernel's port is 16 bits
}

// serve is cfloor's serve: wait, then handle each event.
func (l *loop) serve() {
	if usePkg {
		events := make([]epoll.Event, 0, maxEvents)
		for {
			var err error
			if events, err = l.poll.Wait(events, epoll.Forever); err != nil {
				log.Fatal(err)
			}
			for _, ev := range events {
				l.handle(int(ev.Token()), ev.IsReadClosed()) //nolint:gosec // G115: tokens are fds
			}
		}
	}
	var events [maxEvents]syscall.EpollEvent
	for {
		n, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&events[0])), maxEvents, ^uintptr(0), 0, 0)
		switch errno {
		case 0:
		case syscall.EINTR:
			continue
		default:
			log.Fatalf("epoll_pwait: %v", errno)
		}
		for _, ev := range events[:n] {
			l.handle(int(ev.Fd), ev.Events&syscall.EPOLLRDHUP != 0)
		}
	}
}

func (l *loop) handle(fd int, readClosed bool) {
	if fd == l.listener {
		l.acceptAll()
		return
	}
	switch c := l.conns[fd]; {
	case c == nil: // closed earlier in this batch
	case c.waiting:
		l.flushConn(c)
	default:
		l.readConn(c, readClosed)
	}
}

func (l *loop) ctl(op, fd int, events uint32) {
	var err error
	switch {
	case !usePkg:
		err = syscall.EpollCtl(l.epfd, op, fd, &syscall.EpollEvent{Events: events, Fd: int32(fd)}) //nolint:gosec // G115: fds fit
	case op == syscall.EPOLL_CTL_ADD:
		err = l.poll.Registry().Register(fd, epoll.Token(fd), epoll.Interest(events)) //nolint:gosec // G115: fds are never negative
	default:
		err = l.poll.Registry().Reregister(fd, epoll.Token(fd), epoll.Interest(events)) //nolint:gosec // G115: fds are never negative
	}
	if err != nil {
		log.Fatal(err)
	}
}

func (l *loop) acceptAll() {
	for {
		fd, _, err := syscall.Accept4(l.listener, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		switch err {
		case nil:
		case syscall.EINTR, syscall.ECONNABORTED:
			continue
		case syscall.EAGAIN:
			return
		default:
			log.Printf("accept4: %v", err) // out of fds: the rest wait in the queue
			return
		}
		_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
		for fd >= len(l.conns) {
			l.conns = append(l.conns[:cap(l.conns)], nil)
		}
		l.conns[fd] = &conn{fd: fd}
		l.ctl(syscall.EPOLL_CTL_ADD, fd, interest)
	}
}

// rawIO reads or writes a non-blocking fd, as evserver does.
func rawIO(trap uintptr, fd int, p []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return int(n), errno //nolint:gosec // G115: at most len(p)
}

// closeConn closes c without EPOLL_CTL_DEL, as cfloor does: the last
// descriptor of the file, epoll drops it itself.
func (l *loop) closeConn(c *conn) {
	syscall.Close(c.fd)
	l.conns[c.fd] = nil
}

// readConn serves one readiness event, with one read unless the read
// filled the buffer or the peer also shut down its side.
func (l *loop) readConn(c *conn, readClosed bool) {
	for {
		n, errno := rawIO(syscall.SYS_READ, c.fd, l.buf)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno == syscall.EAGAIN:
			return
		case errno != 0:
			l.closeConn(c)
			return
		case n == 0: // the client is done sending: answer, then close
			c.closing = true
			l.flushConn(c)
			return
		}
		data := l.buf[:n]
		if len(c.in) > 0 {
			c.in = append(c.in, data...)
			data = c.in
		}
		var rest []byte
		l.out, rest, c.closing = l.answerAll(l.out[:0], data)
		if len(rest) == 0 {
			c.in = nil
		} else {
			c.in = append(c.in[:0], rest...) // rest may be in l.buf, or in c.in itself
		}
		if !l.writeConn(c, l.out) || (n < readSize && !readClosed) {
			return
		}
	}
}

// writeConn writes out with one write, keeping in c.out what the socket
// has no room for, and reports whether c is open with nothing left to write.
func (l *loop) writeConn(c *conn, out []byte) bool {
	for len(out) > 0 {
		n, errno := rawIO(syscall.SYS_WRITE, c.fd, out)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno == syscall.EAGAIN:
			c.out = append(c.out, out...)
			if !c.waiting {
				c.waiting = true
				l.ctl(syscall.EPOLL_CTL_MOD, c.fd, syscall.EPOLLOUT|epollET)
			}
			return false
		case errno != 0: // EPIPE, ECONNRESET: the client is gone
			l.closeConn(c)
			return false
		}
		out = out[n:]
	}
	if c.closing {
		l.closeConn(c)
		return false
	}
	return true
}

func (l *loop) flushConn(c *conn) {
	out, waiting := c.out, c.waiting
	c.out = nil
	if l.writeConn(c, out) && waiting {
		c.waiting = false
		l.ctl(syscall.EPOLL_CTL_MOD, c.fd, interest)
	}
}

// answerAll appends a response to out for each complete request in in, and
// returns what is left of an incomplete one and whether to close after
// writing: cfloor's answerAll, or evserver's with -strict.
func (l *loop) answerAll(out, in []byte) (resp, rest []byte, closing bool) {
	if strict {
		rest, resp, closing = proto.AnswerAll(in, out)
		return resp, rest, closing
	}
	for !closing {
		end := bytes.Index(in, []byte("\r\n\r\n"))
		if end < 0 {
			if len(in) > maxHeaderBytes {
				out, closing = append(out, headTooLarge...), true
			}
			break
		}
		r, keep := answer(in[:end])
		out, closing, in = append(out, r...), !keep, in[end+4:]
	}
	return out, in, closing
}

// answer is cfloor's answer: the response to a request head (without the
// blank line) and whether the connection stays open.
func answer(h []byte) (resp []byte, keepAlive bool) {
	line, fields, _ := bytes.Cut(h, []byte("\r\n"))
	method, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return badRequest, false
	}
	target, proto, ok := bytes.Cut(rest, []byte(" "))
	if !ok || len(target) == 0 {
		return badRequest, false
	}
	http11 := string(proto) == "HTTP/1.1"
	if !http11 && string(proto) != "HTTP/1.0" {
		return badRequest, false
	}
	if string(method) != "GET" {
		return notAllowed, false
	}
	keep := http11
	for len(fields) > 0 {
		var f []byte
		f, fields, _ = bytes.Cut(fields, []byte("\r\n"))
		name, v, ok := bytes.Cut(f, []byte(":"))
		if !ok {
			return badRequest, false
		}
		v = bytes.TrimSpace(v)
		if bytes.EqualFold(name, []byte("Transfer-Encoding")) ||
			bytes.EqualFold(name, []byte("Content-Length")) && string(v) != "0" {
			return bodyRefused, false
		}
		if bytes.EqualFold(name, []byte("Connection")) {
			for o := range bytes.SplitSeq(v, []byte(",")) {
				if bytes.EqualFold(bytes.TrimSpace(o), []byte("close")) {
					keep = false
				}
			}
		}
	}
	if keep {
		return okResp, true
	}
	return okClose, false
}
