package http1

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/rawpoll/epoll/internal/http1/http1test"
)

// The responses, spelled out independently of the parser's own constants.
const ok = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"

// TestConformance drives every case through AnswerAll: in one piece, and in
// pieces of every size from one byte up (each handed over as the loop does,
// with what the call before left over), which must make no difference.
func TestConformance(t *testing.T) {
	for _, tc := range http1test.Conformance {
		t.Run(tc.Name, func(t *testing.T) {
			out, rest, closing := AnswerAll(nil, []byte(tc.Send), 0)
			got := http1test.ReadResponses(t, out, tc.Closes, tc.Method)
			if fmt.Sprint(got) != fmt.Sprint(tc.Statuses) || closing != tc.Closes {
				t.Errorf("got %v, closing %v; want %v, closing %v", got, closing, tc.Statuses, tc.Closes)
			}
			if closing && len(rest) > 0 || !closing && len(rest) >= MaxHeadBytes {
				t.Errorf("closing %v with %d bytes left over", closing, len(rest))
			}
			if len(tc.Send) > 3<<10 {
				return // quadratic; FuzzAnswerAll and the server test split big ones
			}
			for k := 1; k < len(tc.Send); k++ {
				split, _, splitClosing := feed(tc.Send, k)
				if !bytes.Equal(split, out) || splitClosing != closing {
					t.Fatalf("split at %d: %q, closing %v; want %q, closing %v", k, split, splitClosing, out, closing)
				}
			}
		})
	}
}

// feed hands in to AnswerAll in pieces of size, as the loop does: each call
// with what the one before left over and the next piece. It stops at a close.
func feed(in string, size int) (out, rest []byte, closing bool) {
	for i := 0; i < len(in) && !closing; i += size {
		rest = append(rest, in[i:min(i+size, len(in))]...)
		out, rest, closing = AnswerAll(out, rest, 0)
		rest = append([]byte(nil), rest...) // as the loop copies it
	}
	return out, rest, closing
}

// TestRefusedAtOnce: a bad line is refused as soon as it is complete, and
// over-long lines and heads as soon as they pass their limit, without
// waiting for the rest of the head.
func TestRefusedAtOnce(t *testing.T) {
	for _, tc := range []struct {
		send   string
		status string
	}{
		{"GET /\r\n", "400"},
		{"GET / HTTP/1.1\n", "400"},
		{"GET / HTTP/2.0\r\n", "505"},
		{"GET / HTTP/1.1\r\nHost: x\r\nX\x00: y\r\n", "400"},
		{"GET / HTTP/1.1\r\nHost: x\r\n y\r\n", "400"},
		{"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n", "400"},
		{"GET / HTTP/1.1\r\nContent-Length: x\r\n", "400"},
		{"GET /" + strings.Repeat("x", MaxRequestLine), "414"},
		{"GET / HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", MaxFields+1), "431"},
		{("GET / HTTP/1.1\r\nX: " + strings.Repeat("y", MaxHeadBytes))[:MaxHeadBytes], "431"},
	} {
		out, rest, closing := AnswerAll(nil, []byte(tc.send), 0)
		if !bytes.HasPrefix(out, []byte("HTTP/1.1 "+tc.status+" ")) || !closing || len(rest) > 0 {
			t.Errorf("%.40q: %.40q, closing %v, %d bytes left; want %s and a close", tc.send, out, closing, len(rest), tc.status)
		}
	}
	// A byte short of the limits, it waits.
	for _, send := range []string{
		"GET /" + strings.Repeat("x", MaxRequestLine-len("GET /")),
		"GET /" + strings.Repeat("x", MaxRequestLine-len("GET /")) + "\r",
		("GET / HTTP/1.1\r\nX: " + strings.Repeat("y", MaxHeadBytes))[:MaxHeadBytes-1],
		"GET / HTTP/1.1\r\nHost: x\r\n\r",
	} {
		out, rest, closing := AnswerAll(nil, []byte(send), 0)
		if len(out) > 0 || closing || string(rest) != send {
			t.Errorf("%.40q: %.40q, closing %v; want it to wait", send, out, closing)
		}
	}
}

// TestLimits: the limits are as the variables set them, exactly, and the same in
// pieces of any size.
func TestLimits(t *testing.T) {
	defer func(l, h, f int) { MaxRequestLine, MaxHeadBytes, MaxFields = l, h, f }(MaxRequestLine, MaxHeadBytes, MaxFields)
	MaxRequestLine, MaxHeadBytes, MaxFields = 20, 64, 2
	type limitCase struct{ send, status string }
	expect := func(cases []limitCase) {
		t.Helper()
		for _, tc := range cases {
			for size := 1; size <= len(tc.send); size++ {
				out, _, _ := feed(tc.send, size)
				if !bytes.HasPrefix(out, []byte("HTTP/1.1 "+tc.status+" ")) {
					t.Fatalf("%q in pieces of %d: %.40q, want %s", tc.send, size, out, tc.status)
				}
			}
		}
	}
	expect([]limitCase{
		{"GET /" + strings.Repeat("x", 20-len("GET / HTTP/1.1")) + " HTTP/1.1\r\nHost: x\r\n\r\n", "200"},
		{"GET /" + strings.Repeat("x", 21-len("GET / HTTP/1.1")) + " HTTP/1.1\r\nHost: x\r\n\r\n", "414"},
		{"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\r\n", "200"},
		{"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\nC: d\r\n\r\n", "431"},
		{"GET / HTTP/1.1\r\nHost: x\r\nA: " + strings.Repeat("b", 64-32) + "\r\n\r\n", "200"},
		{"GET / HTTP/1.1\r\nHost: x\r\nA: " + strings.Repeat("b", 65-32) + "\r\n\r\n", "431"},
		{"GET / HTTP/1.1\r\nHost: x\r\nA: " + strings.Repeat("b", 64), "431"},
	})
	// A request line within its own limit may leave the head no room.
	MaxRequestLine = 100
	expect([]limitCase{
		{"GET /" + strings.Repeat("x", 60-len("GET / HTTP/1.0")) + " HTTP/1.0\r\n\r\n", "200"},
		{"GET /" + strings.Repeat("x", 61-len("GET / HTTP/1.0")) + " HTTP/1.0\r\n\r\n", "431"},
		{"GET /" + strings.Repeat("x", 100-len("GET / HTTP/1.0")) + " HTTP/1.0\r\n", "431"},
		{"GET /" + strings.Repeat("x", 101-len("GET / HTTP/1.0")) + " HTTP/1.0\r\n", "414"},
	})
}

// TestMaxOut: AnswerAll stops once out reaches maxOut, and what it leaves
// gives the remaining responses, so that calls in turn make what one makes.
func TestMaxOut(t *testing.T) {
	in := strings.Repeat("GET / HTTP/1.1\r\n"+http1test.Host+"\r\n", 10) + "GET / HTTP/1.1\r\n"
	whole, wholeRest, _ := AnswerAll(nil, []byte(in), 0)
	if string(whole) != strings.Repeat(ok, 10) || string(wholeRest) != "GET / HTTP/1.1\r\n" {
		t.Fatalf("%q, %q left", whole, wholeRest)
	}
	for _, maxOut := range []int{1, len(ok), len(ok) + 1, 3 * len(ok), 100 * len(ok)} {
		var all []byte
		rest := []byte(in)
		for {
			out, next, closing := AnswerAll(nil, rest, maxOut)
			if len(out) >= maxOut+len(ok) || closing {
				t.Fatalf("maxOut %d: one call made %d bytes, closing %v", maxOut, len(out), closing)
			}
			if len(out) == 0 {
				break
			}
			all, rest = append(all, out...), next
		}
		if !bytes.Equal(all, whole) || !bytes.Equal(rest, wholeRest) {
			t.Errorf("maxOut %d: %d bytes, %q left", maxOut, len(all), rest)
		}
	}
}

// Requests as real clients send them, for the fuzz corpus and benchmarks.
const (
	curlGET = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
	wrkGET  = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
	// chromeGET is Chrome 120's navigation head.
	chromeGET = "GET /path/page?q=1 HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"Connection: keep-alive\r\n" +
		"sec-ch-ua: \"Not_A Brand\";v=\"8\", \"Chromium\";v=\"120\", \"Google Chrome\";v=\"120\"\r\n" +
		"sec-ch-ua-mobile: ?0\r\n" +
		"sec-ch-ua-platform: \"Linux\"\r\n" +
		"Upgrade-Insecure-Requests: 1\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n" +
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n" +
		"Sec-Fetch-Site: none\r\n" +
		"Sec-Fetch-Mode: navigate\r\n" +
		"Sec-Fetch-User: ?1\r\n" +
		"Sec-Fetch-Dest: document\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\n" +
		"Accept-Language: en-US,en;q=0.9\r\n" +
		"Cookie: session=abc123; theme=dark\r\n\r\n"
	// firefoxGET is Firefox 121's.
	firefoxGET = "GET / HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\n" +
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
		"Accept-Language: en-US,en;q=0.5\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\n" +
		"DNT: 1\r\n" +
		"Connection: keep-alive\r\n" +
		"Upgrade-Insecure-Requests: 1\r\n" +
		"Sec-Fetch-Dest: document\r\n" +
		"Sec-Fetch-Mode: navigate\r\n" +
		"Sec-Fetch-Site: none\r\n" +
		"Sec-Fetch-User: ?1\r\n" +
		"If-None-Match: \"abc\"\r\n" +
		"TE: trailers\r\n\r\n"
)

// TestRealClients: the heads curl, wrk and browsers send are served.
func TestRealClients(t *testing.T) {
	for _, req := range []string{curlGET, wrkGET, chromeGET, firefoxGET} {
		out, rest, closing := AnswerAll(nil, []byte(req+req), 0)
		if string(out) != ok+ok || closing || len(rest) > 0 {
			t.Errorf("%.40q: %q, closing %v, %d left", req, out, closing, len(rest))
		}
	}
}

// TestValidValue checks the 8-bytes-at-once scan against the table, for
// every byte at every place in and after the words, and beside obs-text,
// whose high bit must not hide a byte below it.
func TestValidValue(t *testing.T) {
	for _, fill := range []byte{'a', 0xff, 0x80, '\t', ' '} {
		for c := range 256 {
			for p := range 19 {
				v := bytes.Repeat([]byte{fill}, 19)
				v[p] = byte(c)
				if got := validValue(v); got != fieldVChar[c] {
					t.Errorf("byte %#x at %d among %#x: %v", c, p, fill, got)
				}
			}
		}
	}
}

// TestNeighboursAgainstNetHTTP runs FuzzAnswerAll's checks on every head one
// byte away from a few valid ones, each followed by a second request: every
// byte value put in every place, inserted there, or the byte there removed.
// The fuzzer finds such heads by chance; here each is tried.
func TestNeighboursAgainstNetHTTP(t *testing.T) {
	for _, head := range []string{
		"GET /a?b=c%20 HTTP/1.1\r\nHost: x:80\r\nX-A: b c\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
		"HEAD / HTTP/1.0\r\nTransfer-Encoding: x\r\nCookie: a=b\r\n\r\n",
	} {
		var tried int
		try := func(in []byte) {
			out, rest, closing := AnswerAll(nil, in, 0)
			checkAgainstNetHTTP(t, in, out, rest, closing)
			tried++
		}
		for i := range len(head) + 1 {
			for c := range 256 {
				b := []byte(head[:i] + string(rune(0)) + head[i:] + wrkGET)
				b[i] = byte(c)
				try(b) // inserted
				if i < len(head) {
					try(append(b[:i+1:i+1], head[i+1:]+wrkGET...)) // put in place
				}
			}
			if i < len(head) {
				try([]byte(head[:i] + head[i+1:] + wrkGET)) // removed
			}
		}
		if tried < 256*len(head) {
			t.Fatalf("tried %d heads", tried)
		}
	}
}
