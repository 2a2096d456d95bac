// Command gnetserver is cmd/evserver's HTTP/1.1 server written on gnet v2
// (github.com/panjf2000/gnet), the event-loop framework a Go programmer
// would otherwise pick, with multicore on: one event loop per CPU. Its
// protocol is evserver's, byte for byte (package proto; scripts/bench.sh
// checks it). It prints "listening on ADDR" on standard output once it
// accepts connections.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"sync"
	"syscall"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
	"github.com/rawpoll/epoll/bench/internal/proto"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "`ip:port` to listen on; port 0 picks a free one")
	flag.Parse()
	h := &handler{}
	err := gnet.Run(h, "tcp://"+*addr, gnet.WithMulticore(true), gnet.WithLogLevel(logging.ErrorLevel))
	if err != nil {
		log.Fatal(err)
	}
}

type handler struct {
	gnet.BuiltinEventEngine
	booted chan<- gnet.Engine // if set, OnBoot sends the engine: for tests
}

// outBufs hold the responses to one OnTraffic. Event loops call it in
// parallel, so they cannot share one buffer, and one per connection would
// add to each idle connection's memory; a sync.Pool keeps one per P.
var outBufs = sync.Pool{New: func() any { return new([]byte) }}

// OnBoot prints the address, the port resolved if 0 was asked for.
func (h *handler) OnBoot(eng gnet.Engine) gnet.Action {
	fd, err := eng.Dup()
	if err != nil {
		log.Fatal(err)
	}
	defer syscall.Close(fd)
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		log.Fatal(err)
	}
	var addr netip.AddrPort
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		addr = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)) //nolint:gosec // G115: a port is 16 bits
	case *syscall.SockaddrInet6:
		addr = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port)) //nolint:gosec // G115: a port is 16 bits
	}
	fmt.Fprintf(os.Stdout, "listening on %s\n", addr)
	if h.booted != nil {
		h.booted <- eng
	}
	return gnet.None
}

// OnTraffic answers every complete request gnet has buffered for c and
// leaves an incomplete one there for the next call. The responses go out
// with one Write, as evserver's do.
func (h *handler) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Peek(-1)
	buf := outBufs.Get().(*[]byte)
	rest, out, closing := proto.AnswerAll(in, (*buf)[:0])
	// gnet's Discard(0) discards everything buffered, so an unfinished
	// head (nothing answered) must not reach it: it would be lost.
	if n := len(in) - len(rest); n > 0 {
		_, _ = c.Discard(n) // cannot fail: in is what Peek had
	}
	var err error
	if len(out) > 0 {
		_, err = c.Write(out) // copied to gnet's buffer if the socket takes less
	}
	*buf = out
	outBufs.Put(buf)
	if closing || err != nil {
		return gnet.Close
	}
	return gnet.None
}
