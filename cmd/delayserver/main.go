// Command delayserver is the delay server of Carl Fredrik Samson's
// Asynchronous Programming in Rust (Packt, 2024), chapter 4, "the book"
// below: GET /{delay_ms}/{message}
// answers message after delay_ms milliseconds, and each request is logged as
// "#n - {delay}ms: {message}" when it arrives. Run it in one terminal and
// `go run ./cmd/delaydemo -addr localhost:8080` in another, as in the book.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rawpoll/epoll/cmd/delayserver/delay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "delayserver:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then closes the server.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("delayserver", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "localhost:8080", "address to listen on")
	if err := flags.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           delay.Handler(log.New(stdout, "", 0)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(stdout, "delayserver listening on %s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
