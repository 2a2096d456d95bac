package http1

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The benchmarks compare the parser with the one it replaced (commit
// 8248558, AnswerAll and answer copied below unchanged but for their names),
// in the same process. Each round runs in its own process with the order
// of the two rotated by $BENCH_ROUND, as scripts/bench.sh does:
//
//	for r in 0 1 2 3 4 5 6 7 8 9; do BENCH_ROUND=$r go test -run '^$' \
//	    -bench 'AnswerAll|SlowHead' -count 1 ./internal/http1; done >parse.txt
//	benchstat -col /impl parse.txt

func impls() []string {
	r, _ := strconv.Atoi(os.Getenv("BENCH_ROUND"))
	if r%2 == 1 {
		return []string{"old", "new"}
	}
	return []string{"new", "old"}
}

func answerAllOf(impl string) func(out, in []byte, maxOut int) ([]byte, []byte, bool) {
	if impl == "old" {
		return oldAnswerAll
	}
	return AnswerAll
}

// BenchmarkAnswerAll answers one read's worth of requests: one head, as
// wrk's keep-alive connections send them, or a browser's larger head, or
// 100 pipelined heads. Reported per head.
func BenchmarkAnswerAll(b *testing.B) {
	for _, tc := range []struct {
		name  string
		in    string
		heads int
	}{
		{"keepalive", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1},
		{"chrome", chromeGET, 1},
		{"pipelined", strings.Repeat(wrkGET, 100), 100},
	} {
		for _, impl := range impls() {
			b.Run("head="+tc.name+"/impl="+impl, func(b *testing.B) {
				answer := answerAllOf(impl)
				in := []byte(tc.in)
				out := make([]byte, 0, 64<<10)
				want := strings.Repeat(ok, tc.heads)
				for range b.N {
					var rest []byte
					out, rest, _ = answer(out[:0], in, 0)
					if len(rest) > 0 {
						b.Fatal("left over")
					}
				}
				if string(out) != want {
					b.Fatalf("got %q", out)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tc.heads), "ns/head")
			})
		}
	}
}

// BenchmarkSlowHead answers a head of almost 8 KiB (60 fields of 128 bytes)
// that arrives a byte per read, handing AnswerAll all of it so far each
// time, as the loop does: the cost of rescanning. Reported per head and per
// byte.
func BenchmarkSlowHead(b *testing.B) {
	head := "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Field: "+strings.Repeat("v", 117)+"\r\n", 60) + "\r\n"
	for _, impl := range impls() {
		b.Run("impl="+impl, func(b *testing.B) {
			answer := answerAllOf(impl)
			in := make([]byte, 0, len(head))
			var out []byte
			for range b.N {
				in = in[:0]
				for i := range len(head) {
					in = append(in, head[i])
					var rest []byte
					out, rest, _ = answer(out[:0], in, 0)
					in = in[:len(rest)] // rest is in itself here
				}
			}
			if string(out) != ok {
				b.Fatalf("got %q", out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(head)), "ns/byte")
		})
	}
}

// The parser as it was in commit 8248558.
var (
	oldHeadEnd        = []byte("\r\n\r\n")
	oldMaxHeaderBytes = 8 << 10 // then server.go's

	oldResponseOK      = oldResponse("200 OK", "hello\n", "")
	oldResponseOKClose = oldResponse("200 OK", "hello\n", "Connection: close\r\n")
	oldBadRequest      = oldResponse("400 Bad Request", "malformed request\n", "Connection: close\r\n")
	oldNotAllowed      = oldResponse("405 Method Not Allowed", "only GET is served\n", "Allow: GET\r\nConnection: close\r\n")
	oldBodyRefused     = oldResponse("413 Content Too Large", "request bodies are not accepted\n", "Connection: close\r\n")
	oldHeadTooLarge    = oldResponse("431 Request Header Fields Too Large", "request head over 8 KiB\n", "Connection: close\r\n")
)

func oldResponse(status, body, headers string) []byte {
	return []byte("HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n" + headers + "\r\n" + body)
}

// oldAnswerAll appends to out a response for each complete request in in, in
// order, which is all that pipelining needs, and returns the start of an
// incomplete request left over and whether to close. With maxOut > 0 it
// stops once out holds maxOut bytes or more, leaving the requests not yet
// answered in rest.
func oldAnswerAll(out, in []byte, maxOut int) (resp, rest []byte, closing bool) {
	rest = in
	for !closing && (maxOut <= 0 || len(out) < maxOut) {
		end := bytes.Index(rest, oldHeadEnd)
		if end < 0 {
			if len(rest) > oldMaxHeaderBytes {
				out, closing = append(out, oldHeadTooLarge...), true
			}
			break
		}
		r, keepAlive := oldAnswer(rest[:end])
		out, closing = append(out, r...), !keepAlive
		rest = rest[end+len(oldHeadEnd):]
	}
	return out, rest, closing
}

// oldAnswer returns the response to a request head (the request line and
// headers, without the blank line) and whether the connection stays open.
// Requests with a body are refused: skipping bodies would need chunked
// decoding, and this server has nothing to do with them.
func oldAnswer(head []byte) (resp []byte, keepAlive bool) {
	line, headers, _ := bytes.Cut(head, []byte("\r\n"))
	method, rest, ok1 := bytes.Cut(line, []byte(" "))
	target, proto, ok2 := bytes.Cut(rest, []byte(" "))
	http11 := string(proto) == "HTTP/1.1"
	if !ok1 || !ok2 || len(target) == 0 || !http11 && string(proto) != "HTTP/1.0" {
		return oldBadRequest, false
	}
	if string(method) != "GET" {
		return oldNotAllowed, false
	}
	keepAlive = http11 // HTTP/1.0 closes by default; keep-alive there is not offered
	for len(headers) > 0 {
		var h []byte
		h, headers, _ = bytes.Cut(headers, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return oldBadRequest, false
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Transfer-Encoding")),
			bytes.EqualFold(name, []byte("Content-Length")) && string(value) != "0":
			return oldBodyRefused, false
		case bytes.EqualFold(name, []byte("Connection")):
			for options := value; len(options) > 0; { // bytes.SplitSeq is newer than go.mod's go 1.23
				var option []byte
				option, options, _ = bytes.Cut(options, []byte(","))
				if bytes.EqualFold(bytes.TrimSpace(option), []byte("close")) {
					keepAlive = false
				}
			}
		}
	}
	if !keepAlive {
		return oldResponseOKClose, false
	}
	return oldResponseOK, true
}
