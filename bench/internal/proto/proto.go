// Package proto is the HTTP/1.1 protocol of cmd/evserver, byte for byte,
// for the servers it is measured against (cmd/netserver, cmd/gnetserver):
// every GET is answered "hello\n", connections are kept alive, pipelined
// requests are answered in order, and bad requests, other methods, bodies
// and heads over 8 KiB get evserver's error responses and a close.
// scripts/bench.sh checks that all three answer alike.
package proto

import (
	"bytes"
	"strconv"
)

// The same constants and responses as cmd/evserver's server.go.
const maxHeaderBytes = 8 << 10 // a request head must end (\r\n\r\n) within this

var (
	headEnd = []byte("\r\n\r\n")

	responseOK      = response("200 OK", "hello\n", "")
	responseOKClose = response("200 OK", "hello\n", "Connection: close\r\n")
	badRequest      = response("400 Bad Request", "malformed request\n", "Connection: close\r\n")
	notAllowed      = response("405 Method Not Allowed", "only GET is served\n", "Allow: GET\r\nConnection: close\r\n")
	bodyRefused     = response("413 Content Too Large", "request bodies are not accepted\n", "Connection: close\r\n")
	headTooLarge    = response("431 Request Header Fields Too Large", "request head over 8 KiB\n", "Connection: close\r\n")
)

func response(status, body, headers string) []byte {
	return []byte("HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n" + headers + "\r\n" + body)
}

// AnswerAll appends a response to out for each complete request in in, in
// order, and returns the start of an incomplete request left over (a
// subslice of in) and whether to close: cmd/evserver's answerAll.
func AnswerAll(in, out []byte) (rest, resp []byte, closing bool) {
	rest = in
	for !closing {
		end := bytes.Index(rest, headEnd)
		if end < 0 {
			if len(rest) > maxHeaderBytes {
				out, closing = append(out, headTooLarge...), true
			}
			break
		}
		r, keepAlive := answer(rest[:end])
		out, closing = append(out, r...), !keepAlive
		rest = rest[end+len(headEnd):]
	}
	return rest, out, closing
}

// answer returns the response to a request head (the request line and
// headers, without the blank line) and whether the connection stays open:
// cmd/evserver's answer, line for line.
func answer(head []byte) (resp []byte, keepAlive bool) {
	line, headers, _ := bytes.Cut(head, []byte("\r\n"))
	method, rest, ok1 := bytes.Cut(line, []byte(" "))
	target, proto, ok2 := bytes.Cut(rest, []byte(" "))
	http11 := string(proto) == "HTTP/1.1"
	if !ok1 || !ok2 || len(target) == 0 || !http11 && string(proto) != "HTTP/1.0" {
		return badRequest, false
	}
	if string(method) != "GET" {
		return notAllowed, false
	}
	keepAlive = http11
	for len(headers) > 0 {
		var h []byte
		h, headers, _ = bytes.Cut(headers, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return badRequest, false
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Transfer-Encoding")),
			bytes.EqualFold(name, []byte("Content-Length")) && string(value) != "0":
			return bodyRefused, false
		case bytes.EqualFold(name, []byte("Connection")):
			for option := range bytes.SplitSeq(value, []byte(",")) {
				if bytes.EqualFold(bytes.TrimSpace(option), []byte("close")) {
					keepAlive = false
				}
			}
		}
	}
	if !keepAlive {
		return responseOKClose, false
	}
	return responseOK, true
}
