package delay

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineWriter hands each log line to a channel, so tests can wait for lines
// without racing the handler goroutines that write them.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- strings.TrimSuffix(string(p), "\n")
	return len(p), nil
}

func newServer(t *testing.T) (*httptest.Server, lineWriter) {
	lines := make(lineWriter, 100)
	srv := httptest.NewServer(Handler(log.New(lines, "", 0)))
	t.Cleanup(srv.Close)
	return srv, lines
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestAnswersAfterTheDelay(t *testing.T) {
	srv, lines := newServer(t)
	start := time.Now()
	code, body := get(t, srv.URL+"/150/hello%20world")
	if elapsed := time.Since(start); elapsed < 150*time.Millisecond {
		t.Errorf("answered after %v, before the 150ms delay", elapsed)
	}
	if code != http.StatusOK || body != "hello world" {
		t.Errorf("got %d %q, want 200 %q", code, body, "hello world")
	}
	if line := <-lines; line != "#1 - 150ms: hello world" {
		t.Errorf("log line %q, want %q", line, "#1 - 150ms: hello world")
	}
}

func TestBadRequests(t *testing.T) {
	srv, lines := newServer(t)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/", http.StatusNotFound},
		{"/1000", http.StatusNotFound},
		{"/1000/", http.StatusNotFound},
		{"/1000/a/b", http.StatusNotFound},
		{"/abc/x", http.StatusBadRequest},
		{"/-1/x", http.StatusBadRequest},
		{"/1.5/x", http.StatusBadRequest},
		{"/60001/x", http.StatusBadRequest},
		{"/99999999999999999999999/x", http.StatusBadRequest},
	} {
		if code, body := get(t, srv.URL+tc.path); code != tc.want {
			t.Errorf("GET %s: %d %q, want %d", tc.path, code, body, tc.want)
		}
	}
	resp, err := http.Post(srv.URL+"/0/x", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
	select {
	case line := <-lines:
		t.Errorf("a rejected request was logged: %q", line)
	default:
	}
	if code, body := get(t, srv.URL+"/0/still-alive"); code != http.StatusOK || body != "still-alive" {
		t.Errorf("after bad requests: %d %q", code, body)
	}
}

// TestServesConcurrently holds many requests in their delay at once: every
// one is logged (the log line comes on arrival) while none can have been
// answered, which a server handling one request at a time could not do.
// Cancelling them shows the handlers let go of clients that left.
func TestServesConcurrently(t *testing.T) {
	const n = 50
	srv, lines := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/60000/r%d", srv.URL, i), nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				errs <- fmt.Errorf("request %d answered before its 60 s delay: %s", i, resp.Status)
			}
		}()
	}
	var logged []string
	for range n {
		logged = append(logged, <-lines)
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Arrival order among concurrent requests is arbitrary, but the numbers
	// are 1..n, each once.
	slices.Sort(logged)
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, fmt.Sprintf("#%d - 60000ms: r", i))
	}
	slices.Sort(want)
	for i := range logged {
		if !strings.HasPrefix(logged[i], want[i]) {
			t.Fatalf("log lines %q, want prefixes %q", logged, want)
		}
	}
	// httptest's Close waits for every handler: the cancelled ones must return.
	srv.Close()
	if len(lines) != 0 {
		t.Errorf("%d unexpected log lines", len(lines))
	}
}
