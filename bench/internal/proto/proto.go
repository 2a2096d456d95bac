// Package proto is the HTTP/1.1 protocol of cmd/evserver, byte for byte,
// for the servers it is measured against (cmd/netserver, cmd/gnetserver):
// every GET is answered "hello\n" (and HEAD with its head), connections are
// kept alive, pipelined requests are answered in order, and heads RFC 9112
// does not allow, other methods, bodies and heads over the limits get
// evserver's error responses and a close. scripts/bench.sh checks that all
// three answer alike.
//
// The parser is evserver's own, the root module's internal/http1, which
// this module may import because its path lies under the root's.
package proto

import "github.com/rawpoll/epoll/internal/http1"

// AnswerAll appends a response to out for each complete request in in, in
// order, and returns the start of an incomplete request left over (a
// subslice of in) and whether to close: http1.AnswerAll with no bound on
// out, at evserver's default limits.
func AnswerAll(in, out []byte) (rest, resp []byte, closing bool) {
	resp, rest, closing = http1.AnswerAll(out, in, 0)
	return rest, resp, closing
}
