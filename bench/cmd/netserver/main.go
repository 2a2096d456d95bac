// Command netserver is what cmd/evserver is measured against: the same
// HTTP/1.1 protocol, written as Go's net package is meant to be used, with
// one goroutine per connection on the runtime's netpoller.
//
// Its protocol is cmd/evserver's, byte for byte (scripts/bench.sh checks
// that on several kinds of request): every GET is answered "hello\n",
// connections are kept alive, pipelined requests are answered in order, and
// bad requests, other methods, bodies and heads over 8 KiB get evserver's
// error responses and a close. It prints "listening on ADDR" on standard
// output once it accepts connections.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"strconv"
	"time"
)

// The same constants and responses as cmd/evserver's server.go.
const maxHeaderBytes = 8 << 10 // a request head must end (\r\n\r\n) within this

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

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "`ip:port` to listen on; port 0 picks a free one")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	acceptLoop(ln)
}

// acceptLoop serves every connection of ln in its own goroutine until ln is
// closed.
func acceptLoop(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of fds, say: back off instead of spinning, and go on.
			log.Print(err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go serve(c)
	}
}

// serve answers the requests of one connection until either side ends it.
// Package net sets TCP_NODELAY, as evserver does by hand.
func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096) // bufio's default size, as in net/http
	var in, out []byte
	for {
		n, err := c.Read(buf)
		in = append(in, buf[:n]...)
		var closing bool
		in, out, closing = answerAll(in, out[:0])
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
		if closing || err != nil { // answered the last request, or EOF or an error
			return
		}
	}
}

// answerAll appends a response to out for each complete request in in, in
// order, and returns what is left of in and whether to close: cmd/evserver's
// answerAll.
func answerAll(in, out []byte) (rest, resp []byte, closing bool) {
	rest = in
	for !closing {
		end := bytes.Index(rest, headEnd)
		if end < 0 {
			if len(rest) > maxHeaderBytes {
				out, closing = append(out, headTooLarge...), true
			}
			break
		}
		r, keepAlive := answer(rest[:end])
		out, closing = append(out, r...), !keepAlive
		rest = rest[end+len(headEnd):]
	}
	return in[:copy(in, rest)], out, closing
}

// answer returns the response to a request head (the request line and
// headers, without the blank line) and whether the connection stays open:
// cmd/evserver's answer, line for line.
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
	keepAlive = http11
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
			for option := range bytes.SplitSeq(value, []byte(",")) {
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
