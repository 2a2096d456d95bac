// Package http1test holds what the tests of internal/http1 and of
// cmd/evserver share: the conformance cases, which the first drives through
// the parser and the second over sockets, and the reading of responses.
package http1test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Host is the Host field of the requests in Conformance.
const Host = "Host: x\r\n"

// Case is a request stream, the status of each response a server must
// send, whether it then closes, and the method of the first request
// answered (HEAD responses have no content).
type Case struct {
	Name     string
	Send     string
	Statuses []int
	Closes   bool
	Method   string // GET if empty
}

// Conformance is every case of issue 24, and more.
var Conformance = []Case{
	// Request smuggling: each sends a second request as the first one's
	// body, and must be refused once, without the second being answered.
	{"CL space before colon", "GET / HTTP/1.1\r\n" + Host + "Content-Length : 33\r\n\r\n" + Smuggled, []int{400}, true, ""},
	{"TE tab before colon", "GET / HTTP/1.1\r\n" + Host + "Transfer-Encoding\t: chunked\r\n\r\n" + Smuggled, []int{400}, true, ""},
	{"CL behind a bare LF", "GET / HTTP/1.1\r\n" + Host + "X: a\nContent-Length: 33\r\n\r\n" + Smuggled, []int{400}, true, ""},
	{"obs-fold", "GET / HTTP/1.1\r\n" + Host + "X: a\r\n Content-Length: 33\r\n\r\n" + Smuggled, []int{400}, true, ""},
	{"obs-fold with HTAB", "GET / HTTP/1.1\r\n" + Host + "X: a\r\n\tb\r\n\r\n", []int{400}, true, ""},
	{"CL and TE", "GET / HTTP/1.1\r\n" + Host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}, true, ""},
	{"TE in HTTP/1.0", "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}, true, ""},
	{"two CLs", "GET / HTTP/1.1\r\n" + Host + "Content-Length: 0\r\nContent-Length: 0\r\n\r\n", []int{400}, true, ""},
	{"CL list", "GET / HTTP/1.1\r\n" + Host + "Content-Length: 0, 0\r\n\r\n", []int{400}, true, ""},
	{"CL negative", "GET / HTTP/1.1\r\n" + Host + "Content-Length: -1\r\n\r\n", []int{400}, true, ""},
	{"CL plus", "GET / HTTP/1.1\r\n" + Host + "Content-Length: +0\r\n\r\n", []int{400}, true, ""},
	{"CL empty", "GET / HTTP/1.1\r\n" + Host + "Content-Length:\r\n\r\n", []int{400}, true, ""},
	{"CL hex", "GET / HTTP/1.1\r\n" + Host + "Content-Length: 0x0\r\n\r\n", []int{400}, true, ""},

	// Heads RFC 9112 refuses.
	{"no Host", "GET / HTTP/1.1\r\n\r\n", []int{400}, true, ""},
	{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", []int{400}, true, ""},
	{"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", []int{400}, true, ""},
	{"Host with obs-text", "GET / HTTP/1.1\r\nHost: \xe9\r\n\r\n", []int{400}, true, ""},
	{"NUL in target", "GET /\x00 HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"control byte in target", "GET /\x01 HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"DEL in target", "GET /\x7f HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"obs-text in target", "GET /\xe9 HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"HTAB in target", "GET /\t HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"bad escape in target", "GET /%zz HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"short escape in target", "GET /% HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"NUL in field name", "GET / HTTP/1.1\r\n" + Host + "X\x00: a\r\n\r\n", []int{400}, true, ""},
	{"NUL in field value", "GET / HTTP/1.1\r\n" + Host + "X: a\x00b\r\n\r\n", []int{400}, true, ""},
	{"control byte in field value", "GET / HTTP/1.1\r\n" + Host + "X: a\x1bb\r\n\r\n", []int{400}, true, ""},
	{"DEL in field value", "GET / HTTP/1.1\r\n" + Host + "X: a\x7fb\r\n\r\n", []int{400}, true, ""},
	{"bare CR in field value", "GET / HTTP/1.1\r\n" + Host + "X: a\rb\r\n\r\n", []int{400}, true, ""},
	{"CR CR LF", "GET / HTTP/1.1\r\n" + Host + "X: a\r\r\n\r\n", []int{400}, true, ""},
	{"bare CR in request line", "GET /\r HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"empty field name", "GET / HTTP/1.1\r\n" + Host + ": a\r\n\r\n", []int{400}, true, ""},
	{"space in field name", "GET / HTTP/1.1\r\n" + Host + "X Y: a\r\n\r\n", []int{400}, true, ""},
	{"no colon", "GET / HTTP/1.1\r\n" + Host + "Host\r\n\r\n", []int{400}, true, ""},
	{"leading empty line", "\r\nGET / HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"two spaces", "GET  / HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"no target", "GET  HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"trailing space", "GET / HTTP/1.1 \r\n" + Host + "\r\n", []int{400}, true, ""},
	{"asterisk-form", "GET * HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"absolute-form", "GET http://x/ HTTP/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"garbage", "hello there\r\n\r\n", []int{400}, true, ""},
	{"lower-case version", "GET / http/1.1\r\n" + Host + "\r\n", []int{400}, true, ""},
	{"two-digit minor", "GET / HTTP/1.10\r\n" + Host + "\r\n", []int{400}, true, ""},

	// Line endings: CRLF only, and a bad line is refused once it is complete.
	{"bare LF everywhere", "GET / HTTP/1.1\n" + Host[:len(Host)-2] + "\n\n", []int{400}, true, ""},
	{"bare LF request line, rest to come", "GET / HTTP/1.1\n", []int{400}, true, ""},
	{"bare LF blank line", "GET / HTTP/1.1\r\n" + Host + "\n", []int{400}, true, ""},
	{"HTTP/0.9", "GET /\r\n", []int{400}, true, ""},
	{"bad field, head unfinished", "GET / HTTP/1.1\r\nX Y: a\r\n", []int{400}, true, ""},

	// Limits, the same however the bytes arrive.
	{"10 KiB head", "GET / HTTP/1.1\r\n" + Host + "X: " + strings.Repeat("x", 10<<10) + "\r\n\r\n", []int{431}, true, ""},
	{"60 KiB request line", "GET /" + strings.Repeat("x", 60<<10) + " HTTP/1.1\r\n" + Host + "\r\n", []int{414}, true, ""},
	{"request line over 8 KiB, unfinished", "GET /" + strings.Repeat("x", 8<<10), []int{414}, true, ""},
	{"head over 8 KiB, unfinished", "GET / HTTP/1.1\r\nX: " + strings.Repeat("x", 8<<10), []int{431}, true, ""},
	{"5000 fields", "GET / HTTP/1.1\r\n" + Host + strings.Repeat("X-Field: value\r\n", 5000) + "\r\n", []int{431}, true, ""},
	{"101 fields", "GET / HTTP/1.1\r\n" + Host + strings.Repeat("X: y\r\n", 100) + "\r\n", []int{431}, true, ""},
	{"100 fields", "GET / HTTP/1.1\r\n" + Host + strings.Repeat("X: y\r\n", 99) + "\r\n", []int{200}, false, ""},
	{"8 KiB head", "GET / HTTP/1.1\r\n" + Host + "X: " + strings.Repeat("x", 8<<10-len("GET / HTTP/1.1\r\n"+Host+"X: \r\n\r\n")) + "\r\n\r\n", []int{200}, false, ""},
	{"8 KiB head and a byte", "GET / HTTP/1.1\r\n" + Host + "X: " + strings.Repeat("x", 8<<10+1-len("GET / HTTP/1.1\r\n"+Host+"X: \r\n\r\n")) + "\r\n\r\n", []int{431}, true, ""},

	// Methods and versions.
	{"GET", "GET / HTTP/1.1\r\n" + Host + "\r\n", []int{200}, false, ""},
	{"HEAD", "HEAD / HTTP/1.1\r\n" + Host + "\r\n", []int{200}, false, "HEAD"},
	{"HEAD then GET", "HEAD / HTTP/1.1\r\n" + Host + "\r\nGET / HTTP/1.1\r\n" + Host + "Connection: close\r\n\r\n", []int{200, 200}, true, "HEAD"},
	{"HEAD refused", "HEAD / HTTP/1.1\r\n" + Host + "Content-Length: 5\r\n\r\nhello", []int{413}, true, "HEAD"},
	{"POST", "POST / HTTP/1.1\r\n" + Host + "Content-Length: 0\r\n\r\n", []int{405}, true, ""},
	{"POST with a body", "POST / HTTP/1.1\r\n" + Host + "Content-Length: 5\r\n\r\nhello", []int{405}, true, ""},
	{"lower-case get", "get / HTTP/1.1\r\n" + Host + "\r\n", []int{405}, true, ""},
	{"HTTP/2.0", "GET / HTTP/2.0\r\n" + Host + "\r\n", []int{505}, true, ""},
	{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", []int{505}, true, ""},
	{"HTTP/3.0", "GET / HTTP/3.0\r\n" + Host + "\r\n", []int{505}, true, ""},
	{"HTTP/1.2 is served as 1.1", "GET / HTTP/1.2\r\n" + Host + "\r\n", []int{200}, false, ""},
	{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", []int{200}, true, ""},
	{"HTTP/1.0 keep-alive not offered", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n", []int{200}, true, ""},

	// Bodies are refused, and nothing after one is read as a request.
	{"body", "GET / HTTP/1.1\r\n" + Host + "Content-Length: 33\r\n\r\n" + Smuggled, []int{413}, true, ""},
	{"chunked", "GET / HTTP/1.1\r\n" + Host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + Smuggled, []int{413}, true, ""},
	{"CL 0", "GET / HTTP/1.1\r\n" + Host + "Content-Length: 0\r\n\r\n", []int{200}, false, ""},
	{"CL 00", "GET / HTTP/1.1\r\n" + Host + "Content-Length: 00\r\n\r\n", []int{200}, false, ""},

	// Keep-alive, pipelining and the values around fields.
	{"pipelined", strings.Repeat("GET / HTTP/1.1\r\n"+Host+"\r\n", 3), []int{200, 200, 200}, false, ""},
	{"Connection: close", "GET / HTTP/1.1\r\n" + Host + "connection:  Close \r\n\r\n" + Smuggled, []int{200}, true, ""},
	{"Connection list", "GET / HTTP/1.1\r\n" + Host + "Connection: keep-alive,\tclose\r\n\r\n", []int{200}, true, ""},
	{"good then bad", "GET / HTTP/1.1\r\n" + Host + "\r\nPUT / HTTP/1.1\r\n" + Host + "\r\n", []int{200, 405}, true, ""},
	{"unfinished", "GET / HTTP/1.1\r\n" + Host, nil, false, ""},
	{"unfinished after one", "GET / HTTP/1.1\r\n" + Host + "\r\nGET / HTTP/1.1\r", []int{200}, false, ""},
	{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", []int{200}, false, ""},
	{"IPv6 Host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", []int{200}, false, ""},
	{"HTAB and obs-text in value", "GET / HTTP/1.1\r\n" + Host + "X: \ta\tb \xe9\t \r\n\r\n", []int{200}, false, ""},
	{"no OWS", "GET / HTTP/1.1\r\nHost:x\r\nX:y\r\n\r\n", []int{200}, false, ""},
	{"query and escapes", "GET /a/b%20c?d=e&f=%2F#g HTTP/1.1\r\n" + Host + "\r\n", []int{200}, false, ""},
}

// Smuggled is a request sent as another's body; it is 33 bytes.
const Smuggled = "GET /smuggled HTTP/1.1\r\n" + Host + "\r\n"

// ReadResponses parses out as the responses to requests whose first is
// method, and returns their statuses. Every response but the last must keep
// the connection, and the last must say close if closes.
func ReadResponses(t *testing.T, out []byte, closes bool, method string) []int {
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
