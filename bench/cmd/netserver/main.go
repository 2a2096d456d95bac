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
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/rawpoll/epoll/bench/internal/proto"
)

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
		var rest []byte
		var closing bool
		rest, out, closing = proto.AnswerAll(in, out[:0])
		in = in[:copy(in, rest)]
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
