package proto

import (
	"bytes"
	"testing"
)

// TestAnswerAll: AnswerAll answers as evserver does, with its arguments
// and results in proto's order.
func TestAnswerAll(t *testing.T) {
	in := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n")
	rest, out, closing := AnswerAll(in, nil)
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\n"
	if string(out) != head+"hello\n"+head || string(rest) != "GET / HTTP/1.1\r\n" || closing {
		t.Errorf("%q, %q left, closing %v", out, rest, closing)
	}
	if _, out, closing = AnswerAll([]byte("GET / HTTP/1.1\r\n\r\n"), nil); !bytes.HasPrefix(out, []byte("HTTP/1.1 400 ")) || !closing {
		t.Errorf("no Host: %q, closing %v", out, closing)
	}
}
