package main

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/rawpoll/epoll/internal/http1"
	"github.com/rawpoll/epoll/internal/http1/http1test"
)

// TestLimitsFromFlags: run's flags set the parser's limits, exactly, and
// refuse a limit of 0; internal/http1's TestLimits checks what they do.
func TestLimitsFromFlags(t *testing.T) {
	defer func(l, h, f int) {
		http1.MaxRequestLine, http1.MaxHeadBytes, http1.MaxFields = l, h, f
	}(http1.MaxRequestLine, http1.MaxHeadBytes, http1.MaxFields)
	err := run([]string{"-addr", "bad", "-max-request-line", "20", "-max-head-bytes", "64", "-max-fields", "2"}, io.Discard, io.Discard, nil)
	if err == nil || http1.MaxRequestLine != 20 || http1.MaxHeadBytes != 64 || http1.MaxFields != 2 {
		t.Fatalf("run: %v; limits %d %d %d", err, http1.MaxRequestLine, http1.MaxHeadBytes, http1.MaxFields)
	}
	if err := run([]string{"-max-head-bytes", "0"}, io.Discard, io.Discard, nil); err == nil {
		t.Error("run took -max-head-bytes 0")
	}
}

// TestConformanceOverSockets sends some of the cases to a running server,
// in one write and in pieces that each arrive alone, and reads to the end:
// the same responses, then the close, or no close.
func TestConformanceOverSockets(t *testing.T) {
	s := start(t)
	for _, tc := range http1test.Conformance {
		switch tc.Name {
		case "CL space before colon", "TE tab before colon", "CL behind a bare LF", "obs-fold",
			"no Host", "NUL in field value", "bare CR in field value", "empty field name",
			"bare LF request line, rest to come", "HTTP/0.9", "10 KiB head", "60 KiB request line",
			"request line over 8 KiB, unfinished", "head over 8 KiB, unfinished", "5000 fields",
			"HEAD", "HTTP/2.0", "body", "chunked", "pipelined", "good then bad":
		default:
			continue
		}
		for _, pieces := range [][]int{nil, {9 << 10}, {1, 2, 3, 5, 8, 13, 21, 34}} {
			t.Run(fmt.Sprintf("%s/%v", tc.Name, pieces), func(t *testing.T) {
				c := dial(t, s)
				// Reading to the end proves the close: a refused client
				// never half-closes. A reset may come after the response,
				// if a piece met the closed socket.
				got := make(chan []byte, 1)
				go func() {
					_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
					b, err := io.ReadAll(c)
					if err != nil && !errors.Is(err, syscall.ECONNRESET) {
						t.Errorf("reading to the end: %v", err)
					}
					got <- b
				}()
				send := tc.Send
				var eof []byte
				for _, n := range pieces {
					if n >= len(send) {
						break
					}
					before := reads(s)
					if _, err := io.WriteString(c, send[:n]); errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
						eof = <-got // the server closed before this piece
						break
					} else if err != nil {
						t.Fatal(err)
					}
					send = send[n:]
					// Wait for the piece to be read alone, unless the
					// server has answered and closed already.
					waitFor(t, "reading the piece", func() bool {
						select {
						case eof = <-got:
							return true
						default:
							return reads(s) > before
						}
					})
					if eof != nil {
						break
					}
				}
				if eof == nil {
					_, _ = io.WriteString(c, send) // may meet a closed socket
					if !tc.Closes {
						check(t, c.CloseWrite()) // the server keeps it: end it
					}
					eof = <-got
				}
				statuses := http1test.ReadResponses(t, eof, tc.Closes, tc.Method)
				if fmt.Sprint(statuses) != fmt.Sprint(tc.Statuses) {
					t.Errorf("got %v, want %v", statuses, tc.Statuses)
				}
			})
		}
	}
}
