package http1

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/rawpoll/epoll/internal/http1/http1test"
)

// FuzzAnswerAll checks AnswerAll on any bytes against net/http's request
// parser and against itself:
//
//   - Every 200 answers a request that http.ReadRequest reads from the same
//     bytes with the same method, target and version, ending where evserver's
//     ends, with no body, and not asking to close where evserver keeps the
//     connection. evserver may refuse what net/http takes, never the reverse.
//   - Only 200s keep the connection; any other response is the last, with
//     closing set and nothing left over. So there are never more responses
//     than heads, and a refusal is always followed by the close.
//   - What is left over of an incomplete head is within the limits.
//   - Split anywhere, as two reads would bring it, or answered maxOut bytes
//     at a time, the bytes get the same responses.
//   - validValue's 8 bytes at a time agree with its table.
//
// Each input is checked as it is, and expanded from a code of HTTP syntax
// fragments (expand), which reaches heads that differ in a field name or a
// line ending sooner than mutating bytes does.
//
// small runs it with tiny limits, so that short inputs reach them.
func FuzzAnswerAll(f *testing.F) {
	for _, tc := range http1test.Conformance {
		if len(tc.Send) <= 16<<10 {
			f.Add([]byte(tc.Send), uint16(len(tc.Send)/2), uint16(0), false)
		}
	}
	for _, s := range []string{
		curlGET, wrkGET, chromeGET, firefoxGET,
		strings.Repeat(wrkGET, 10),
		chromeGET + firefoxGET + curlGET + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + wrkGET,
		"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nHEAD /y HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\n",
		"GET / HTTP/1.1\r\nHost: x\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\r\n",
		"GET / HTTP/1.1\n\rHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nConnection: foo close\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
		"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"GET /%41%2f?%zz HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nCookie: " + strings.Repeat("k=v; ", 1000) + "\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
		"GET /\"<>\\^`{|}~!$&'()*+,;=:@ HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n!#$%&'*+-.^_`|~09azAZ: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\t000000000000000000000000000000 \r\n\r\n",
		"GET / HTTP/1.1\r\nHost:\t x:80 \t\r\nX:\r\nY: \x80\xff\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		f.Add([]byte(s), uint16(len(s)/3), uint16(0), false)
		f.Add([]byte(s), uint16(len(s)-1), uint16(len(ok)), true)
	}
	// In expand's code: a GET with Host, then one with Content-Length: 0
	// and Connection: close; a HEAD with a Transfer-Encoding.
	f.Add([]byte{22, 10, 0, 22, 10, 11, 3, 2, 16, 0, 14, 3, 2, 15, 1}, uint16(3), uint16(0), false)
	f.Add([]byte{5, 2, 6, 2, 7, 0, 10, 12, 3, 2, 13, 1}, uint16(5), uint16(1), true)
	f.Fuzz(func(t *testing.T, in []byte, split, maxOut uint16, small bool) {
		if small {
			defer func(l, h, f int) { MaxRequestLine, MaxHeadBytes, MaxFields = l, h, f }(MaxRequestLine, MaxHeadBytes, MaxFields)
			MaxRequestLine, MaxHeadBytes, MaxFields = 40, 64, 3
		}
		checkAnswerAll(t, in, split, maxOut)
		checkAnswerAll(t, expand(in), split, maxOut)
	})
}

// fragments are the pieces of HTTP/1 syntax that expand puts together.
var fragments = []string{
	"\r\n", "\r\n\r\n", " ", ":", "GET", "HEAD", "/", "HTTP/1.1", "HTTP/1.0", "Host", "Host: x\r\n",
	"Content-Length", "Transfer-Encoding", "chunked", "Connection", "close", "0", "\n", "\r", "\t", ",", "%",
	"GET / HTTP/1.1\r\n", "\x00", "\x7f", "\xff",
}

// expand reads each byte of in below len(fragments) as that fragment, and
// any other byte as itself, so that the fuzzer composes heads from the
// grammar's pieces as readily as from bytes.
func expand(in []byte) []byte {
	var out []byte
	for _, c := range in {
		if int(c) < len(fragments) {
			out = append(out, fragments[c]...)
		} else {
			out = append(out, c)
		}
	}
	return out
}

// checkAnswerAll checks AnswerAll's answer to in.
func checkAnswerAll(t *testing.T, in []byte, split, maxOut uint16) {
	t.Helper()
	valid := true
	for _, c := range in {
		valid = valid && fieldVChar[c]
	}
	if validValue(in) != valid {
		t.Fatalf("validValue(%q) is %v", in, !valid)
	}

	out, rest, closing := AnswerAll(nil, in, 0)
	checkAgainstNetHTTP(t, in, out, rest, closing)

	k := int(split) % (len(in) + 1)
	got, left, closed := AnswerAll(nil, in[:k], 0)
	if !closed {
		got, left, closed = AnswerAll(got, append(left[:len(left):len(left)], in[k:]...), 0)
	}
	if !bytes.Equal(got, out) || !bytes.Equal(left, rest) || closed != closing {
		t.Fatalf("split at %d: %q, %q left, closing %v; in one piece %q, %q left, closing %v", k, got, left, closed, out, rest, closing)
	}

	if maxOut > 0 {
		got, left, closed = nil, in, false
		for !closed {
			var more []byte
			more, left, closed = AnswerAll(nil, left, int(maxOut))
			if len(more) >= int(maxOut)+longest {
				t.Fatalf("maxOut %d: one call made %d bytes", maxOut, len(more))
			}
			if len(more) == 0 {
				break
			}
			got = append(got, more...)
		}
		if !bytes.Equal(got, out) || !bytes.Equal(left, rest) || closed != closing {
			t.Fatalf("maxOut %d: %q, %q left, closing %v; at once %q, %q left, closing %v", maxOut, got, left, closed, out, rest, closing)
		}
	}
}

// longest is the length of the longest response.
var longest = func() (n int) {
	for _, c := range []canned{responseOK, responseOKClose, badRequest, notAllowed, bodyRefused, lineTooLong, headTooLarge, badVersion} {
		n = max(n, len(c.whole))
	}
	return n
}()

// checkAgainstNetHTTP walks the heads of in, as parse frames them, beside
// the responses AnswerAll made for them.
func checkAgainstNetHTTP(t *testing.T, in, out, rest []byte, closing bool) {
	t.Helper()
	for head := in; ; {
		n, r, keepAlive := parse(head)
		if r == nil { // incomplete: the rest
			if closing || !bytes.Equal(rest, head) || len(out) > 0 {
				t.Fatalf("an incomplete head %q, but closing %v, %q left, %q not sent", head, closing, rest, out)
			}
			if len(rest) > max(MaxRequestLine+1, MaxHeadBytes-1) {
				t.Fatalf("%d bytes left of a head, over the limits", len(rest))
			}
			return
		}
		if !bytes.HasPrefix(out, r) {
			t.Fatalf("AnswerAll sent %q, want %q", out, r)
		}
		out = out[len(r):]
		status := string(r[len("HTTP/1.1 "):len("HTTP/1.1 200")])
		if status != "200" && keepAlive {
			t.Fatalf("%s keeps the connection", r)
		}
		if !keepAlive && !bytes.Contains(r, []byte("\r\nConnection: close\r\n")) {
			t.Fatalf("%s closes without saying so", r)
		}
		if status == "200" {
			sameAsNetHTTP(t, head, n, r, keepAlive)
		}
		if !keepAlive {
			if !closing || len(out) > 0 || len(rest) > 0 {
				t.Fatalf("after %q: closing %v, %q more, %q left", r, closing, out, rest)
			}
			return
		}
		head = head[n:]
	}
}

// sameAsNetHTTP checks that net/http reads a request from the start of in
// just as evserver served one: n bytes, no body, the same request line.
func sameAsNetHTTP(t *testing.T, in []byte, n int, resp []byte, keepAlive bool) {
	t.Helper()
	src := bytes.NewReader(in)
	br := bufio.NewReader(src)
	req, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("evserver served %q, which net/http refuses: %v", in[:n], err)
	}
	consumed := len(in) - src.Len() - br.Buffered()
	line, _, _ := bytes.Cut(in, []byte("\r\n"))
	isHead := bytes.Equal(resp, responseOK.head) || bytes.Equal(resp, responseOKClose.head)
	switch {
	case consumed != n:
		t.Fatalf("evserver framed %q as %d bytes, net/http as %d", in, n, consumed)
	case req.Method+" "+req.RequestURI+" "+req.Proto != string(line):
		t.Fatalf("evserver served %q, net/http read %s %s %s", line, req.Method, req.RequestURI, req.Proto)
	case req.Method != "GET" && req.Method != "HEAD" || isHead != (req.Method == "HEAD"):
		t.Fatalf("%s answered with %q", req.Method, resp)
	case req.ContentLength != 0 || len(req.TransferEncoding) > 0:
		t.Fatalf("served %q, whose body net/http reads as %d bytes, %v", in[:n], req.ContentLength, req.TransferEncoding)
	case req.Close && keepAlive:
		t.Fatalf("kept the connection after %q, where net/http closes", in[:n])
	}
}
