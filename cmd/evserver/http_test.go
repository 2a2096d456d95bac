package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

const host = "Host: x\r\n"

// conformance is every case of issue 24, and more: a request stream, the
// status of each response the server must send, whether it then closes,
// and the method each response answers (HEAD responses have no content).
var conformance = []struct {
	name     string
	send     string
	statuses []int
	closes   bool
	method   string // of the first request answered; GET if empty
}{
	// Request smuggling: each sends a second request as the first one's
	// body, and must be refused once, without the second being answered.
	{"CL space before colon", "GET / HTTP/1.1\r\n" + host + "Content-Length : 33\r\n\r\n" + smuggled, []int{400}, true, ""},
	{"TE tab before colon", "GET / HTTP/1.1\r\n" + host + "Transfer-Encoding\t: chunked\r\n\r\n" + smuggled, []int{400}, true, ""},
	{"CL behind a bare LF", "GET / HTTP/1.1\r\n" + host + "X: a\nContent-Length: 33\r\n\r\n" + smuggled, []int{400}, true, ""},
	{"obs-fold", "GET / HTTP/1.1\r\n" + host + "X: a\r\n Content-Length: 33\r\n\r\n" + smuggled, []int{400}, true, ""},
	{"obs-fold with HTAB", "GET / HTTP/1.1\r\n" + host + "X: a\r\n\tb\r\n\r\n", []int{400}, true, ""},
	{"CL and TE", "GET / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}, true, ""},
	{"TE in HTTP/1.0", "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}, true, ""},
	{"two CLs", "GET / HTTP/1.1\r\n" + host + "Content-Length: 0\r\nContent-Length: 0\r\n\r\n", []int{400}, true, ""},
	{"CL list", "GET / HTTP/1.1\r\n" + host + "Content-Length: 0, 0\r\n\r\n", []int{400}, true, ""},
	{"CL negative", "GET / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", []int{400}, true, ""},
	{"CL plus", "GET / HTTP/1.1\r\n" + host + "Content-Length: +0\r\n\r\n", []int{400}, true, ""},
	{"CL empty", "GET / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n", []int{400}, true, ""},
	{"CL hex", "GET / HTTP/1.1\r\n" + host + "Content-Length: 0x0\r\n\r\n", []int{400}, true, ""},

	// Heads RFC 9112 refuses.
	{"no Host", "GET / HTTP/1.1\r\n\r\n", []int{400}, true, ""},
	{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", []int{400}, true, ""},
	{"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", []int{400}, true, ""},
	{"Host with obs-text", "GET / HTTP/1.1\r\nHost: \xe9\r\n\r\n", []int{400}, true, ""},
	{"NUL in target", "GET /\x00 HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"control byte in target", "GET /\x01 HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"DEL in target", "GET /\x7f HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"obs-text in target", "GET /\xe9 HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"HTAB in target", "GET /\t HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"bad escape in target", "GET /%zz HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"short escape in target", "GET /% HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"NUL in field name", "GET / HTTP/1.1\r\n" + host + "X\x00: a\r\n\r\n", []int{400}, true, ""},
	{"NUL in field value", "GET / HTTP/1.1\r\n" + host + "X: a\x00b\r\n\r\n", []int{400}, true, ""},
	{"control byte in field value", "GET / HTTP/1.1\r\n" + host + "X: a\x1bb\r\n\r\n", []int{400}, true, ""},
	{"DEL in field value", "GET / HTTP/1.1\r\n" + host + "X: a\x7fb\r\n\r\n", []int{400}, true, ""},
	{"bare CR in field value", "GET / HTTP/1.1\r\n" + host + "X: a\rb\r\n\r\n", []int{400}, true, ""},
	{"CR CR LF", "GET / HTTP/1.1\r\n" + host + "X: a\r\r\n\r\n", []int{400}, true, ""},
	{"bare CR in request line", "GET /\r HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"empty field name", "GET / HTTP/1.1\r\n" + host + ": a\r\n\r\n", []int{400}, true, ""},
	{"space in field name", "GET / HTTP/1.1\r\n" + host + "X Y: a\r\n\r\n", []int{400}, true, ""},
	{"no colon", "GET / HTTP/1.1\r\n" + host + "Host\r\n\r\n", []int{400}, true, ""},
	{"leading empty line", "\r\nGET / HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"two spaces", "GET  / HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"no target", "GET  HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"trailing space", "GET / HTTP/1.1 \r\n" + host + "\r\n", []int{400}, true, ""},
	{"asterisk-form", "GET * HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"absolute-form", "GET http://x/ HTTP/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"garbage", "hello there\r\n\r\n", []int{400}, true, ""},
	{"lower-case version", "GET / http/1.1\r\n" + host + "\r\n", []int{400}, true, ""},
	{"two-digit minor", "GET / HTTP/1.10\r\n" + host + "\r\n", []int{400}, true, ""},

	// Line endings: CRLF only, and a bad line is refused once it is complete.
	{"bare LF everywhere", "GET / HTTP/1.1\n" + host[:len(host)-2] + "\n\n", []int{400}, true, ""},
	{"bare LF request line, rest to come", "GET / HTTP/1.1\n", []int{400}, true, ""},
	{"bare LF blank line", "GET / HTTP/1.1\r\n" + host + "\n", []int{400}, true, ""},
	{"HTTP/0.9", "GET /\r\n", []int{400}, true, ""},
	{"bad field, head unfinished", "GET / HTTP/1.1\r\nX Y: a\r\n", []int{400}, true, ""},

	// Limits, the same however the bytes arrive.
	{"10 KiB head", "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("x", 10<<10) + "\r\n\r\n", []int{431}, true, ""},
	{"60 KiB request line", "GET /" + strings.Repeat("x", 60<<10) + " HTTP/1.1\r\n" + host + "\r\n", []int{414}, true, ""},
	{"request line over 8 KiB, unfinished", "GET /" + strings.Repeat("x", 8<<10), []int{414}, true, ""},
	{"head over 8 KiB, unfinished", "GET / HTTP/1.1\r\nX: " + strings.Repeat("x", 8<<10), []int{431}, true, ""},
	{"5000 fields", "GET / HTTP/1.1\r\n" + host + strings.Repeat("X-Field: value\r\n", 5000) + "\r\n", []int{431}, true, ""},
	{"101 fields", "GET / HTTP/1.1\r\n" + host + strings.Repeat("X: y\r\n", 100) + "\r\n", []int{431}, true, ""},
	{"100 fields", "GET / HTTP/1.1\r\n" + host + strings.Repeat("X: y\r\n", 99) + "\r\n", []int{200}, false, ""},
	{"8 KiB head", "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("x", 8<<10-len("GET / HTTP/1.1\r\n"+host+"X: \r\n\r\n")) + "\r\n\r\n", []int{200}, false, ""},
	{"8 KiB head and a byte", "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("x", 8<<10+1-len("GET / HTTP/1.1\r\n"+host+"X: \r\n\r\n")) + "\r\n\r\n", []int{431}, true, ""},

	// Methods and versions.
	{"GET", "GET / HTTP/1.1\r\n" + host + "\r\n", []int{200}, false, ""},
	{"HEAD", "HEAD / HTTP/1.1\r\n" + host + "\r\n", []int{200}, false, "HEAD"},
	{"HEAD then GET", "HEAD / HTTP/1.1\r\n" + host + "\r\nGET / HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", []int{200, 200}, true, "HEAD"},
	{"HEAD refused", "HEAD / HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello", []int{413}, true, "HEAD"},
	{"POST", "POST / HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n", []int{405}, true, ""},
	{"POST with a body", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello", []int{405}, true, ""},
	{"lower-case get", "get / HTTP/1.1\r\n" + host + "\r\n", []int{405}, true, ""},
	{"HTTP/2.0", "GET / HTTP/2.0\r\n" + host + "\r\n", []int{505}, true, ""},
	{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", []int{505}, true, ""},
	{"HTTP/3.0", "GET / HTTP/3.0\r\n" + host + "\r\n", []int{505}, true, ""},
	{"HTTP/1.2 is served as 1.1", "GET / HTTP/1.2\r\n" + host + "\r\n", []int{200}, false, ""},
	{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", []int{200}, true, ""},
	{"HTTP/1.0 keep-alive not offered", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n", []int{200}, true, ""},

	// Bodies are refused, and nothing after one is read as a request.
	{"body", "GET / HTTP/1.1\r\n" + host + "Content-Length: 33\r\n\r\n" + smuggled, []int{413}, true, ""},
	{"chunked", "GET / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, []int{413}, true, ""},
	{"CL 0", "GET / HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n", []int{200}, false, ""},
	{"CL 00", "GET / HTTP/1.1\r\n" + host + "Content-Length: 00\r\n\r\n", []int{200}, false, ""},

	// Keep-alive, pipelining and the values around fields.
	{"pipelined", strings.Repeat("GET / HTTP/1.1\r\n"+host+"\r\n", 3), []int{200, 200, 200}, false, ""},
	{"Connection: close", "GET / HTTP/1.1\r\n" + host + "connection:  Close \r\n\r\n" + smuggled, []int{200}, true, ""},
	{"Connection list", "GET / HTTP/1.1\r\n" + host + "Connection: keep-alive,\tclose\r\n\r\n", []int{200}, true, ""},
	{"good then bad", "GET / HTTP/1.1\r\n" + host + "\r\nPUT / HTTP/1.1\r\n" + host + "\r\n", []int{200, 405}, true, ""},
	{"unfinished", "GET / HTTP/1.1\r\n" + host, nil, false, ""},
	{"unfinished after one", "GET / HTTP/1.1\r\n" + host + "\r\nGET / HTTP/1.1\r", []int{200}, false, ""},
	{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", []int{200}, false, ""},
	{"IPv6 Host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", []int{200}, false, ""},
	{"HTAB and obs-text in value", "GET / HTTP/1.1\r\n" + host + "X: \ta\tb \xe9\t \r\n\r\n", []int{200}, false, ""},
	{"no OWS", "GET / HTTP/1.1\r\nHost:x\r\nX:y\r\n\r\n", []int{200}, false, ""},
	{"query and escapes", "GET /a/b%20c?d=e&f=%2F#g HTTP/1.1\r\n" + host + "\r\n", []int{200}, false, ""},
}

// smuggled is a request sent as another's body; it is 33 bytes.
const smuggled = "GET /smuggled HTTP/1.1\r\n" + host + "\r\n"

// readResponses parses out as the responses to requests whose first is
// method, and returns their statuses. Every response but the last must keep
// the connection, and the last must say close if closes.
func readResponses(t *testing.T, out []byte, closes bool, method string) []int {
	t.Helper()
	var statuses []int
	r := bufio.NewReader(bytes.NewReader(out))
	for r.Buffered() > 0 || len(statuses) == 0 {
		if _, err := r.Peek(1); err == io.EOF {
			break
		}
		m := "GET"
		if method != "" && len(statuses) == 0 {
			m = method
		}
		resp, err := http.ReadResponse(r, &http.Request{Method: m})
		if err != nil {
			t.Fatalf("response %d of %q: %v", len(statuses)+1, out, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || m == "HEAD" && len(body) > 0 || resp.ContentLength != 6 && resp.StatusCode == 200 {
			t.Fatalf("response %d of %q: body %q, %v", len(statuses)+1, out, body, err)
		}
		statuses = append(statuses, resp.StatusCode)
		last := r.Buffered() == 0
		if resp.Close != (last && closes) {
			t.Errorf("response %d of %d: Connection: close is %v", len(statuses), len(statuses), resp.Close)
		}
		if resp.StatusCode == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("405 with Allow %q", resp.Header.Get("Allow"))
		}
	}
	return statuses
}

// TestConformance drives every case through answerAll: in one piece, and in
// pieces of every size from one byte up (each handed over as the loop does,
// with what the call before left over), which must make no difference.
func TestConformance(t *testing.T) {
	for _, tc := range conformance {
		t.Run(tc.name, func(t *testing.T) {
			out, rest, closing := answerAll(nil, []byte(tc.send), 0)
			got := readResponses(t, out, tc.closes, tc.method)
			if fmt.Sprint(got) != fmt.Sprint(tc.statuses) || closing != tc.closes {
				t.Errorf("got %v, closing %v; want %v, closing %v", got, closing, tc.statuses, tc.closes)
			}
			if closing && len(rest) > 0 || !closing && len(rest) >= maxHeadBytes {
				t.Errorf("closing %v with %d bytes left over", closing, len(rest))
			}
			if len(tc.send) > 3<<10 {
				return // quadratic; FuzzAnswerAll and the server test split big ones
			}
			for k := 1; k < len(tc.send); k++ {
				split, _, splitClosing := feed(tc.send, k)
				if !bytes.Equal(split, out) || splitClosing != closing {
					t.Fatalf("split at %d: %q, closing %v; want %q, closing %v", k, split, splitClosing, out, closing)
				}
			}
		})
	}
}

// feed hands in to answerAll in pieces of size, as the loop does: each call
// with what the one before left over and the next piece. It stops at a close.
func feed(in string, size int) (out, rest []byte, closing bool) {
	for i := 0; i < len(in) && !closing; i += size {
		rest = append(rest, in[i:min(i+size, len(in))]...)
		out, rest, closing = answerAll(out, rest, 0)
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
		{"GET /" + strings.Repeat("x", maxRequestLine), "414"},
		{"GET / HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", maxFields+1), "431"},
		{("GET / HTTP/1.1\r\nX: " + strings.Repeat("y", maxHeadBytes))[:maxHeadBytes], "431"},
	} {
		out, rest, closing := answerAll(nil, []byte(tc.send), 0)
		if !bytes.HasPrefix(out, []byte("HTTP/1.1 "+tc.status+" ")) || !closing || len(rest) > 0 {
			t.Errorf("%.40q: %.40q, closing %v, %d bytes left; want %s and a close", tc.send, out, closing, len(rest), tc.status)
		}
	}
	// A byte short of the limits, it waits.
	for _, send := range []string{
		"GET /" + strings.Repeat("x", maxRequestLine-len("GET /")),
		"GET /" + strings.Repeat("x", maxRequestLine-len("GET /")) + "\r",
		("GET / HTTP/1.1\r\nX: " + strings.Repeat("y", maxHeadBytes))[:maxHeadBytes-1],
		"GET / HTTP/1.1\r\nHost: x\r\n\r",
	} {
		out, rest, closing := answerAll(nil, []byte(send), 0)
		if len(out) > 0 || closing || string(rest) != send {
			t.Errorf("%.40q: %.40q, closing %v; want it to wait", send, out, closing)
		}
	}
}

// TestLimitsFromFlags: the limits are what run's flags set, exactly, and
// the same in pieces of any size.
func TestLimitsFromFlags(t *testing.T) {
	defer func(l, h, f int) { maxRequestLine, maxHeadBytes, maxFields = l, h, f }(maxRequestLine, maxHeadBytes, maxFields)
	err := run([]string{"-addr", "bad", "-max-request-line", "20", "-max-head-bytes", "64", "-max-fields", "2"}, io.Discard, io.Discard, nil)
	if err == nil || maxRequestLine != 20 || maxHeadBytes != 64 || maxFields != 2 {
		t.Fatalf("run: %v; limits %d %d %d", err, maxRequestLine, maxHeadBytes, maxFields)
	}
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
	maxRequestLine = 100
	expect([]limitCase{
		{"GET /" + strings.Repeat("x", 60-len("GET / HTTP/1.0")) + " HTTP/1.0\r\n\r\n", "200"},
		{"GET /" + strings.Repeat("x", 61-len("GET / HTTP/1.0")) + " HTTP/1.0\r\n\r\n", "431"},
		{"GET /" + strings.Repeat("x", 100-len("GET / HTTP/1.0")) + " HTTP/1.0\r\n", "431"},
		{"GET /" + strings.Repeat("x", 101-len("GET / HTTP/1.0")) + " HTTP/1.0\r\n", "414"},
	})
	if err := run([]string{"-max-head-bytes", "0"}, io.Discard, io.Discard, nil); err == nil {
		t.Error("run took -max-head-bytes 0")
	}
}

// TestMaxOut: answerAll stops once out reaches maxOut, and what it leaves
// gives the remaining responses, so that calls in turn make what one makes.
func TestMaxOut(t *testing.T) {
	in := strings.Repeat("GET / HTTP/1.1\r\n"+host+"\r\n", 10) + "GET / HTTP/1.1\r\n"
	whole, wholeRest, _ := answerAll(nil, []byte(in), 0)
	if string(whole) != strings.Repeat(ok, 10) || string(wholeRest) != "GET / HTTP/1.1\r\n" {
		t.Fatalf("%q, %q left", whole, wholeRest)
	}
	for _, maxOut := range []int{1, len(ok), len(ok) + 1, 3 * len(ok), 100 * len(ok)} {
		var all []byte
		rest := []byte(in)
		for {
			out, next, closing := answerAll(nil, rest, maxOut)
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

// TestConformanceOverSockets sends some of the cases to a running server,
// in one write and in pieces that each arrive alone, and reads to the end:
// the same responses, then the close, or no close.
func TestConformanceOverSockets(t *testing.T) {
	s := start(t)
	for _, tc := range conformance {
		switch tc.name {
		case "CL space before colon", "TE tab before colon", "CL behind a bare LF", "obs-fold",
			"no Host", "NUL in field value", "bare CR in field value", "empty field name",
			"bare LF request line, rest to come", "HTTP/0.9", "10 KiB head", "60 KiB request line",
			"request line over 8 KiB, unfinished", "head over 8 KiB, unfinished", "5000 fields",
			"HEAD", "HTTP/2.0", "body", "chunked", "pipelined", "good then bad":
		default:
			continue
		}
		for _, pieces := range [][]int{nil, {9 << 10}, {1, 2, 3, 5, 8, 13, 21, 34}} {
			t.Run(fmt.Sprintf("%s/%v", tc.name, pieces), func(t *testing.T) {
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
				send := tc.send
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
					if !tc.closes {
						check(t, c.CloseWrite()) // the server keeps it: end it
					}
					eof = <-got
				}
				statuses := readResponses(t, eof, tc.closes, tc.method)
				if fmt.Sprint(statuses) != fmt.Sprint(tc.statuses) {
					t.Errorf("got %v, want %v", statuses, tc.statuses)
				}
			})
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
		out, rest, closing := answerAll(nil, []byte(req+req), 0)
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
			out, rest, closing := answerAll(nil, in, 0)
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
