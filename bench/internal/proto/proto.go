// Package proto is the HTTP/1.1 protocol of cmd/evserver, byte for byte,
// for the servers it is measured against (cmd/netserver, cmd/gnetserver):
// every GET is answered "hello\n" (and HEAD with its head), connections are
// kept alive, pipelined requests are answered in order, and heads RFC 9112
// does not allow, other methods, bodies and heads over the limits get
// evserver's error responses and a close. scripts/bench.sh checks that all
// three answer alike.
//
// http.go is cmd/evserver's parser itself, copied by go generate; a test
// fails if the copy is stale.
package proto

//go:generate sh -c "{ echo '// Code generated from cmd/evserver/http.go by go generate; DO NOT EDIT.'; echo; sed 's/^package main$/package proto/' ../../../cmd/evserver/http.go; } >http.go"

// maxHeaderBytes is cmd/evserver's default head limit, which its server.go
// holds.
const maxHeaderBytes = 8 << 10

// AnswerAll appends a response to out for each complete request in in, in
// order, and returns the start of an incomplete request left over (a
// subslice of in) and whether to close: cmd/evserver's answerAll.
func AnswerAll(in, out []byte) (rest, resp []byte, closing bool) {
	resp, rest, closing = answerAll(out, in, 0)
	return rest, resp, closing
}
