// Package delay is the book's delay server as an http.Handler, shared by
// cmd/delayserver and cmd/delaydemo: GET /{delay_ms}/{message} answers
// message after delay_ms milliseconds.
package delay

import (
	"log"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// MaxDelay is the longest delay a request may ask for; longer ones get 400,
// so a typo cannot hold a connection open for days.
const MaxDelay = time.Minute

// Handler returns the delay server's handler. It logs every accepted request
// to logger as "#n - {delay}ms: {message}" when it arrives, as the book's
// server does, so the log shows the order requests came in. Paths of another
// shape get 404 and other methods 405 (from http.ServeMux); a delay that is
// not a whole number of milliseconds in [0, MaxDelay] gets 400.
func Handler(logger *log.Logger) http.Handler {
	var (
		mu    sync.Mutex // numbers and logs together, so lines come in number order
		count int
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{delay}/{message}", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.ParseInt(r.PathValue("delay"), 10, 64)
		if err != nil || ms < 0 || ms > MaxDelay.Milliseconds() {
			http.Error(w, "delay must be whole milliseconds from 0 to "+strconv.FormatInt(MaxDelay.Milliseconds(), 10), http.StatusBadRequest)
			return
		}
		message := r.PathValue("message")
		mu.Lock()
		count++
		n := count
		logger.Printf("#%d - %dms: %s", n, ms, message)
		mu.Unlock()

		timer := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return // the client left; nobody is waiting for the answer
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff") // plain text, whatever it looks like
		if _, err := w.Write([]byte(message)); err != nil { //nolint:gosec // G705: the echo is the book's protocol, sent as text/plain with nosniff
			logger.Printf("#%d: answering: %v", n, err) // the client left meanwhile
		}
	})
	return mux
}
