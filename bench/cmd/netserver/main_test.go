package main

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// TestServe checks the protocol scripts/bench.sh relies on: the fixed
// response for every GET, pipelined ones included, on a connection kept
// alive, and a closed connection for anything else.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go acceptLoop(ln)

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	get := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, send := range []string{get, get + get, get[:10], get[10:]} {
		if _, err := io.WriteString(c, send); err != nil {
			t.Fatal(err)
		}
	}
	want := bytes.Repeat(response, 4) // the last GET came in two pieces
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}

	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\n\r\n")
	if n, err := c.Read(got); err != io.EOF {
		t.Fatalf("after a POST: read %d bytes, %v; want EOF", n, err)
	}
}
