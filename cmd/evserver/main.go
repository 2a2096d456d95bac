// Command evserver is an HTTP/1.1 server on epoll event loops, one per core
// by default, built on this package and the syscall package only. It
// answers every GET with "hello\n" (and HEAD with its head), keeps
// connections alive and answers pipelined requests in order; it refuses
// request bodies and any head RFC 9112 does not allow (http.go). Ctrl-C
// (SIGINT) or SIGTERM stops it through the loops' Wakers.
//
// It is meant to be copied as the skeleton of an event-loop server: loops
// that share nothing, each with its own SO_REUSEPORT listener; non-blocking
// accept that survives running out of fds; edge-triggered reads, usually
// one system call per event; one write per batch of responses, waiting for
// Writable only when the socket is full; buffers only while a request or
// its answer is incomplete; connections deregistered and closed on hang-up
// or error.
//
//	go run ./cmd/evserver -addr 127.0.0.1:8080
//	wrk -c 100 -d 10s http://127.0.0.1:8080/
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	if err := run(os.Args[1:], os.Stdout, os.Stderr, stop); err != nil {
		fmt.Fprintln(os.Stderr, "evserver:", err)
		os.Exit(1)
	}
}

// run serves until a value arrives on stop. Once the server is ready it
// prints "listening on ADDR" to stdout.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) error {
	flags := flag.NewFlagSet("evserver", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "`ip:port` to listen on; port 0 picks a free one")
	loops := flags.Int("loops", runtime.GOMAXPROCS(0), "event loops, each a goroutine with its own Poll and listener")
	flags.IntVar(&maxRequestLine, "max-request-line", maxRequestLine, "`bytes` of a request line without CRLF; longer gets 414")
	flags.IntVar(&maxHeadBytes, "max-head-bytes", maxHeadBytes, "`bytes` of a request head, blank line included; more gets 431")
	flags.IntVar(&maxFields, "max-fields", maxFields, "header field lines of a request; more gets 431")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if maxRequestLine < 1 || maxHeadBytes < 1 || maxFields < 0 {
		return fmt.Errorf("-max-request-line %d, -max-head-bytes %d, -max-fields %d: want limits above 0 (-max-fields may be 0)", maxRequestLine, maxHeadBytes, maxFields)
	}
	s, err := newServer(*addr, *loops)
	if err != nil {
		return err
	}
	go func() {
		<-stop
		if err := s.Shutdown(); err != nil {
			fmt.Fprintln(stderr, "evserver: stopping:", err)
		}
	}()
	fmt.Fprintf(stdout, "listening on %s\n", s.addr)
	return s.Serve()
}
