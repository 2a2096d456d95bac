// Package http1 is the HTTP/1.1 request-head parser of cmd/evserver, and of
// the servers bench/ measures it against (bench/cmd/netserver and
// gnetserver, through bench/internal/proto), so that all of them answer
// byte for byte alike: every GET is answered "hello\n" (and HEAD with its
// head), pipelined heads in order, and any head RFC 9112 does not allow,
// other methods, bodies and heads over the limits get an error response and
// a close. It is one package so that the parser has one source; it is
// internal because only this repository's commands serve its answers.
package http1

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// The parser frames requests by RFC 9112 and nothing else, because where one
// request ends and the next begins is a security boundary: a head that one
// parser reads as two requests and another as one is request smuggling.
//
//   - Lines end in CRLF, everywhere. A bare LF or a bare CR is a 400, and so is
//     any control byte but HTAB in a field value or any byte outside visible
//     ASCII in the request target. net/http also takes a lone LF; being
//     stricter than it is safe, being laxer is not (FuzzAnswerAll checks).
//   - A field name is a token directly followed by ":". Whitespace before the
//     colon, an obs-fold line (one starting with SP or HTAB) and an empty name
//     are a 400.
//   - HTTP/1.1 requires exactly one Host; HTTP/1.0 may have none.
//   - The server takes no request bodies: a Content-Length other than 0, or
//     any Transfer-Encoding, is refused (413) and the connection closed, so
//     that nothing after such a head is ever read as a request. A malformed
//     or repeated Content-Length, or one beside a Transfer-Encoding, is
//     faulty framing: 400.
//   - The target is origin-form ("/path?query"). RFC 9112 §3.2.2 asks
//     servers to accept absolute-form too; only proxies are sent it, and
//     refusing it keeps Host the one source of the authority.
//
// AnswerAll keeps no state between calls: the loop hands it again every byte
// of a head not yet complete. Each call checks the complete lines of that
// head again, so a head arriving a byte per read costs O(n) per read and
// O(n²) in all, which the head limit bounds (as it bounded the bytes.Index
// rescan of the parser before this one). BenchmarkSlowHead measures a head
// of 7.7 KiB sent a byte per read: about 1.5 µs of parsing per byte, three
// times the old rescan, of the order of the read and Wait each such byte
// costs anyway. A resume offset kept per connection would make it linear,
// at the cost of parser state in the loop's connections.

// Every decision is taken as soon as the bytes that decide it are in, and
// depends on nothing after them, so the answer is the same however TCP
// splits the bytes: an invalid line is refused once its LF arrives, a
// request line once it passes MaxRequestLine, a head once MaxHeadBytes of it
// hold no end. Until the request line ends only its own limit applies, so
// that a long one gets its 414 rather than the 431 of a head that cannot end
// in time; after it, the whole head, request line included, must end within
// MaxHeadBytes. A connection so holds at most max(MaxRequestLine+1,
// MaxHeadBytes-1) bytes of a head.

// Limits on a request head, which cmd/evserver's flags set before it
// serves; they must not change while AnswerAll runs. Each refusal closes
// the connection.
var (
	// MaxRequestLine bounds the request line without its CRLF (nginx's
	// large_client_header_buffers, 8 KiB): 414 URI Too Long.
	MaxRequestLine = 8 << 10
	// MaxHeadBytes bounds a whole head, request line to blank line
	// included: 431. Also what a connection buffers of an incomplete head.
	MaxHeadBytes = 8 << 10
	// MaxFields bounds the field lines of a head (Apache's
	// LimitRequestFields): 431.
	MaxFields = 100
)

// A canned response: whole, and its head alone for a request with method
// HEAD, whose response has the same fields but no content (RFC 9110 §9.3.2).
type canned struct{ whole, head []byte }

func response(status, body, fields string) canned {
	head := "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n" + fields + "\r\n"
	whole := []byte(head + body)
	return canned{whole, whole[:len(head)]}
}

const closeField = "Connection: close\r\n"

var (
	responseOK      = response("200 OK", "hello\n", "")
	responseOKClose = response("200 OK", "hello\n", closeField)
	badRequest      = response("400 Bad Request", "malformed request\n", closeField)
	notAllowed      = response("405 Method Not Allowed", "only GET and HEAD are served\n", "Allow: GET, HEAD\r\n"+closeField)
	bodyRefused     = response("413 Content Too Large", "request bodies are not accepted\n", closeField)
	lineTooLong     = response("414 URI Too Long", "request line too long\n", closeField)
	headTooLarge    = response("431 Request Header Fields Too Large", "request head too large\n", closeField)
	badVersion      = response("505 HTTP Version Not Supported", "only HTTP/1.0 and HTTP/1.1 are served\n", closeField)
)

// AnswerAll appends to out a response for each complete request head at the
// start of in, in order, which is all that pipelining needs. It returns the
// start of an incomplete head left over, and whether to close the connection
// once out is written; then nothing of in is left, as nothing after a
// refusal or a Connection: close may be read as a request. With maxOut > 0
// it stops once out holds maxOut bytes or more, leaving the heads not yet
// answered in rest. An incomplete head left in rest is at most
// max(MaxRequestLine+1, MaxHeadBytes-1) bytes.
func AnswerAll(out, in []byte, maxOut int) (resp, rest []byte, closing bool) {
	rest = in
	for maxOut <= 0 || len(out) < maxOut {
		n, r, keepAlive := parse(rest)
		if r == nil {
			break // incomplete
		}
		out = append(out, r...)
		if !keepAlive {
			return out, rest[len(rest):], true
		}
		rest = rest[n:]
	}
	return out, rest, false
}

// parse reads the request head at the start of in. It returns the response
// and whether the connection stays open, with n the bytes of the head if it
// is served (a 200); or a nil response if the head is incomplete and valid
// so far.
func parse(in []byte) (n int, resp []byte, keepAlive bool) {
	// The request line: method SP request-target SP HTTP-version CRLF. Until
	// its LF, only its own limit applies.
	lwin := in[:min(len(in), MaxRequestLine+2)]
	eol := bytes.IndexByte(lwin, '\n')
	if eol < 0 {
		line := lwin
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1] // its LF may come next
		}
		if len(line) > MaxRequestLine {
			return 0, lineTooLong.whole, false
		}
		return 0, nil, false
	}
	if eol == 0 || in[eol-1] != '\r' {
		return 0, badRequest.whole, false
	}
	method, http10, status := requestLine(in[:eol-1])
	isHead := status == nil && string(method) == "HEAD"
	refuse := func(c canned) (int, []byte, bool) {
		if isHead {
			return 0, c.head, false
		}
		return 0, c.whole, false
	}
	if status != nil {
		return refuse(*status)
	}
	pos := eol + 1
	if pos > MaxHeadBytes-2 {
		return refuse(headTooLarge) // no room left for the blank line
	}
	win := in[:min(len(in), MaxHeadBytes)] // a head ends within this

	// Field lines: field-name ":" OWS field-value OWS CRLF, to an empty line.
	keepAlive = !http10 // HTTP/1.0 keep-alive is not offered
	var hosts, fields int
	var contentLength []byte // nil: none
	var transferEncoding bool
	for {
		eol = bytes.IndexByte(win[pos:], '\n')
		if eol < 0 {
			if len(in) >= MaxHeadBytes {
				return refuse(headTooLarge)
			}
			return 0, nil, false
		}
		line := win[pos : pos+eol]
		pos += eol + 1
		if len(line) == 0 || line[len(line)-1] != '\r' {
			return refuse(badRequest) // a bare LF
		}
		line = line[:len(line)-1]
		if len(line) == 0 {
			break // the end of the head
		}
		if fields++; fields > MaxFields {
			return refuse(headTooLarge)
		}
		name, value, ok := fieldLine(line)
		if !ok {
			return refuse(badRequest)
		}
		// Only these names matter here; names are tokens, so folding bit
		// 0x20 compares letters without case and leaves '-' alone.
		switch len(name) {
		case 4:
			if foldEqual(name, "host") {
				if hosts++; hosts > 1 || !validHost(value) {
					return refuse(badRequest)
				}
			}
		case 10:
			if foldEqual(name, "connection") && hasCloseOption(value) {
				keepAlive = false
			}
		case 14:
			if foldEqual(name, "content-length") {
				if contentLength != nil || !digits(value) {
					return refuse(badRequest) // RFC 9112 §6.3: unrecoverable
				}
				contentLength = value
			}
		case 17:
			if foldEqual(name, "transfer-encoding") {
				transferEncoding = true
			}
		}
	}
	switch {
	case hosts == 0 && !http10,
		// RFC 9112 §6.1: with both, or in HTTP/1.0, framing is faulty.
		transferEncoding && (contentLength != nil || http10):
		return refuse(badRequest)
	case string(method) != "GET" && !isHead:
		return refuse(notAllowed)
	case transferEncoding || contentLength != nil && !zero(contentLength):
		return refuse(bodyRefused)
	}
	r := responseOK
	if !keepAlive {
		r = responseOKClose
	}
	if isHead {
		return pos, r.head, keepAlive
	}
	return pos, r.whole, keepAlive
}

// requestLine checks a request line without its CRLF, and returns its
// method and whether it is HTTP/1.0, or the refusal it deserves.
func requestLine(line []byte) (method []byte, http10 bool, refusal *canned) {
	i := 0
	for i < len(line) && tchar[line[i]] {
		i++
	}
	sp := bytes.LastIndexByte(line, ' ')
	if i == 0 || i == len(line) || line[i] != ' ' || sp == i {
		return nil, false, &badRequest // HTTP/0.9's "GET /" among others
	}
	method, target, v := line[:i], line[i+1:sp], line[sp+1:]
	// HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. It comes
	// first, so that an HTTP/2 preface ("PRI * HTTP/2.0") gets its 505.
	if len(v) != 8 || string(v[:5]) != "HTTP/" || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7]) {
		return nil, false, &badRequest
	}
	if v[5] != '1' {
		return nil, false, &badVersion
	}
	// origin-form: "/" then visible ASCII, a '%' always starting an escape
	// (net/http refuses a bad escape in the path).
	if len(target) == 0 || target[0] != '/' {
		return nil, false, &badRequest
	}
	for i, c := range target {
		switch {
		case c < 0x21 || c > 0x7e:
			return nil, false, &badRequest
		case c == '%':
			if i+2 >= len(target) || !isHex(target[i+1]) || !isHex(target[i+2]) {
				return nil, false, &badRequest
			}
		}
	}
	// RFC 9110 §2.5: a higher minor version of HTTP/1 is served as HTTP/1.1.
	return method, v[7] == '0', nil
}

// fieldLine splits a field line without its CRLF into a name, which must be
// a token directly followed by ':', and a value without the optional
// whitespace around it, which must hold no control byte but HTAB.
func fieldLine(line []byte) (name, value []byte, ok bool) {
	i := 0
	for i < len(line) && tchar[line[i]] {
		i++
	}
	if i == 0 || i == len(line) || line[i] != ':' {
		return nil, nil, false
	}
	name, value = line[:i], line[i+1:]
	if !validValue(value) {
		return nil, nil, false
	}
	for len(value) > 0 && (value[0] == ' ' || value[0] == '\t') {
		value = value[1:]
	}
	for len(value) > 0 && (value[len(value)-1] == ' ' || value[len(value)-1] == '\t') {
		value = value[:len(value)-1]
	}
	return name, value, true
}

// validValue reports whether v holds only fieldVChar bytes. Values are most
// of a head, and a head that arrives in pieces is checked again with each,
// so it looks at 8 bytes at once: any below 0x20 or equal to 0x7f sends
// those 8 to the table (HTAB is allowed).
func validValue(v []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; len(v) >= 8; v = v[8:] {
		x := binary.LittleEndian.Uint64(v)
		del := x ^ 0x7f*ones
		// (y - ones) & ^y & highs is not 0 if and only if y has a zero
		// byte; with 0x20*ones, a byte below 0x20.
		if (x-0x20*ones)&^x&highs|(del-ones)&^del&highs != 0 {
			for _, c := range v[:8] {
				if !fieldVChar[c] {
					return false
				}
			}
		}
	}
	for _, c := range v {
		if !fieldVChar[c] {
			return false
		}
	}
	return true
}

// hasCloseOption reports whether a Connection value holds the word
// "close", split at commas and at whitespace too: net/http closes on
// "foo close", which is no valid option list, and so must this server.
func hasCloseOption(value []byte) bool {
	for i := 0; i+len("close") <= len(value); i++ {
		if foldEqual(value[i:i+len("close")], "close") &&
			(i == 0 || optionEnd(value[i-1])) && (i+len("close") == len(value) || optionEnd(value[i+len("close")])) {
			return true
		}
	}
	return false
}

func optionEnd(c byte) bool { return c == ',' || c == ' ' || c == '\t' }

// foldEqual reports whether the token b is lower, a lower-case name of
// letters and '-', without regard to case.
func foldEqual(b []byte, lower string) bool {
	for i := range len(b) {
		if b[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// validHost reports whether a Host value is a host and optional port, by
// the bytes net/http's server allows; empty is allowed (RFC 9112 §3.2).
func validHost(v []byte) bool {
	for _, c := range v {
		if !hostChar[c] {
			return false
		}
	}
	return true
}

func digits(v []byte) bool {
	for _, c := range v {
		if !isDigit(c) {
			return false
		}
	}
	return len(v) > 0
}

func zero(v []byte) bool {
	for _, c := range v {
		if c != '0' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

// Byte classes as tables, one load per byte.
var (
	// tchar: the bytes of a token, RFC 9110 §5.6.2.
	tchar = class(func(c byte) bool {
		return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' || bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
	})
	// fieldVChar: the bytes of a field value with its surrounding OWS,
	// RFC 9110 §5.5: VCHAR, obs-text, SP and HTAB.
	fieldVChar = class(func(c byte) bool { return c == '\t' || c >= 0x20 && c != 0x7f })
	// hostChar: the bytes of net/http's httpguts.ValidHostHeader.
	hostChar = class(func(c byte) bool {
		return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' || bytes.IndexByte([]byte("!$%&'()*+,-.:;=[]_~"), c) >= 0
	})
)

func class(in func(byte) bool) (t [256]bool) {
	for c := range 256 {
		t[c] = in(byte(c))
	}
	return t
}
