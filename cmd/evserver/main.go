// Command evserver is an HTTP/1.1 server on epoll event loops, one per core
// by default, built on this package and the syscall package only. It
// answers every GET with "hello\n" (and HEAD with its head), keeps
// connections alive and answers pipelined requests in order; it refuses
// request bodies and any head RFC 9112 does not allow (the parser is
// internal/http1, which the servers bench/ compares it with share).
//
// It is meant to be copied as the skeleton of an event-loop server: loops
// that share nothing, each with its own SO_REUSEPORT listener; non-blocking
// accept that survives running out of fds; edge-triggered reads, usually
// one system call per event; one write per batch of responses, waiting for
// Writable only when the socket is full; buffers only while a request or
// its answer is incomplete; connections deregistered and closed on hang-up
// or error.
//
// It is also meant to survive clients that do not behave:
//
//   - Timeouts, kept by each loop on its own clock (read once per Wait
//     return) in one deadline-ordered list per kind, and passed to Wait, so
//     an idle server never wakes up: -header-timeout (20s) for a request
//     head, from its first byte or from the connect, not restarted by bytes
//     trickling in; -idle-timeout (75s) for a keep-alive connection with
//     nothing in flight; -write-timeout (60s) for a connection whose
//     responses make no write progress.
//   - -max-conns (RLIMIT_NOFILE less a margin): at the cap, and when accept
//     runs out of fds, a newcomer takes the place of the connection of its
//     loop that has waited longest, idle or with an unfinished head; only
//     when that loop has none but connections owing responses is it
//     accepted and closed at once, even if another loop holds idle ones
//     (loops share nothing). The listen queue never stalls: an accept that
//     fails for want of memory, say, is tried again after a back-off of
//     5 ms, doubled up to 1 s, rather than at the next connection.
//   - -max-pending-output (64 KiB): a connection that owes more is not
//     read until its client reads, so one that pipelines and never reads
//     costs at most that plus one read buffer.
//   - SIGTERM or SIGINT drains: the listeners close, idle connections close
//     at once, and every request already received is answered before its
//     connection closes, within -drain-timeout (10s); a second signal stops
//     at once.
//   - SIGUSR1 returns freed memory to the system and prints one line of
//     counters (connections, timeouts and evictions by kind, refusals,
//     accept retries, bytes held), as the end of a run does.
//
// To try it:
//
//	go run ./cmd/evserver -addr 127.0.0.1:8080
//	wrk -c 100 -d 10s http://127.0.0.1:8080/
//
// scripts/soak.sh storms it with every kind of bad client at once; see
// RELIABILITY.md.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/rawpoll/epoll/internal/http1"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	if err := run(os.Args[1:], os.Stdout, os.Stderr, stop); err != nil {
		fmt.Fprintln(os.Stderr, "evserver:", err)
		os.Exit(1)
	}
}

// run serves until a value arrives on stop, then drains: it stops
// accepting, finishes what is owed and returns; a second value stops it at
// once. Once the server is ready it prints "listening on ADDR" to stdout.
// SIGUSR1 prints the counters (see stats) to stdout after returning freed
// memory to the system, and so does the end of run.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) error {
	flags := flag.NewFlagSet("evserver", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "`ip:port` to listen on; port 0 picks a free one")
	loops := flags.Int("loops", runtime.GOMAXPROCS(0), "event loops, each a goroutine with its own Poll and listener")
	flags.IntVar(&http1.MaxRequestLine, "max-request-line", http1.MaxRequestLine, "`bytes` of a request line without CRLF; longer gets 414")
	flags.IntVar(&http1.MaxHeadBytes, "max-head-bytes", http1.MaxHeadBytes, "`bytes` of a request head, blank line included; more gets 431")
	flags.IntVar(&http1.MaxFields, "max-fields", http1.MaxFields, "header field lines of a request; more gets 431")
	cfg := defaultConfig(*loops)
	flags.DurationVar(&cfg.timeouts[stHead], "header-timeout", cfg.timeouts[stHead], "a connection's request head must be whole this long after it started (or after the connect); 0: no limit")
	flags.DurationVar(&cfg.timeouts[stIdle], "idle-timeout", cfg.timeouts[stIdle], "close a keep-alive connection with nothing in flight after this; 0: never")
	flags.DurationVar(&cfg.timeouts[stWrite], "write-timeout", cfg.timeouts[stWrite], "close a connection whose responses made no write progress for this long; 0: never")
	flags.DurationVar(&cfg.drainTimeout, "drain-timeout", cfg.drainTimeout, "on SIGTERM or SIGINT, how long connections may take to finish what they are owed")
	flags.IntVar(&cfg.maxConns, "max-conns", 0, "most connections held; at the cap a newcomer replaces the longest idle or the oldest unfinished head of the loop that accepts it, or is closed if that loop has neither (default RLIMIT_NOFILE less a margin)")
	flags.IntVar(&cfg.maxPendingOutput, "max-pending-output", cfg.maxPendingOutput, "`bytes` of responses a connection may owe before the server stops reading it; 0: no bound")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if http1.MaxRequestLine < 1 || http1.MaxHeadBytes < 1 || http1.MaxFields < 0 {
		return fmt.Errorf("-max-request-line %d, -max-head-bytes %d, -max-fields %d: want limits above 0 (-max-fields may be 0)", http1.MaxRequestLine, http1.MaxHeadBytes, http1.MaxFields)
	}
	cfg.loops = *loops
	if cfg.maxConns == 0 {
		cfg.maxConns = defaultMaxConns(*loops)
	}
	s, err := newServerConfig(*addr, cfg)
	if err != nil {
		return err
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for drained := false; ; {
			select {
			case <-done:
				return
			case <-usr1:
				debug.FreeOSMemory()
				fmt.Fprintln(stdout, s.stats())
			case <-stop:
				f := s.Drain
				if drained {
					f = s.Shutdown
				}
				drained = true
				if err := f(); err != nil {
					fmt.Fprintln(stderr, "evserver: stopping:", err)
				}
			}
		}
	}()
	fmt.Fprintf(stdout, "listening on %s\n", s.addr)
	err = s.Serve()
	fmt.Fprintln(stdout, s.stats())
	return err
}
