// Command netserver is what cmd/evserver is measured against: the same
// minimal HTTP/1.1 keep-alive protocol, written as Go's net package is meant
// to be used, with one goroutine per connection on the runtime's netpoller.
//
// It answers every GET request head with the same fixed response as
// cmd/evserver, byte for byte (scripts/bench.sh checks that), and closes the
// connection on anything else. It prints its listening address on standard
// output once it accepts connections.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"time"
)

// response is cmd/evserver's response, byte for byte.
var response = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!")

// maxHead bounds a request head, as cmd/evserver's read buffer does.
const maxHead = 4096

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr())
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

// serve answers the requests of one connection until it closes.
func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, maxHead)
	var out []byte
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		// Answer every complete request head received, pipelined ones in
		// one write.
		for {
			end := bytes.Index(buf[:n], []byte("\r\n\r\n"))
			if end < 0 {
				break
			}
			if !bytes.HasPrefix(buf, []byte("GET ")) {
				return
			}
			out = append(out, response...)
			n = copy(buf, buf[end+4:n])
		}
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return
			}
			out = out[:0]
		}
		if err != nil || n == len(buf) { // closed, failed, or a head too large
			return
		}
	}
}
