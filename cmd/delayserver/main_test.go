package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRun starts the command as main does, on a free port, and stops it.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out, stdout := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, stdout, io.Discard)
		stdout.Close()
	}()
	// Read the output as it comes: the handler's log write must not block.
	lines := make(chan string, 10)
	go func() {
		for s := bufio.NewScanner(out); s.Scan(); {
			lines <- s.Text()
		}
		close(lines)
	}()
	first := <-lines
	addr, ok := strings.CutPrefix(first, "delayserver listening on ")
	if !ok {
		t.Fatalf("first line %q; run returned %v", first, <-done)
	}

	resp, err := http.Get("http://" + addr + "/10/ping")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ping" {
		t.Errorf("got %s %q", resp.Status, body)
	}
	if line := <-lines; line != "#1 - 10ms: ping" {
		t.Errorf("log line %q, want %q", line, "#1 - 10ms: ping")
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
}

func TestRunBadAddress(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "127.0.0.1:99999"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "99999") {
		t.Errorf("got %v, want an error naming the port", err)
	}
}
