package main

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// The responses, spelled out independently of the constants in main.go.
const (
	ok      = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"
	okClose = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n"
)

// TestServe checks the protocol: GETs answered in order on a connection kept
// alive, pipelined ones and ones split over several writes included; a close
// after "Connection: close", and after a request other than a GET.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go acceptLoop(ln)

	get := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, c := range []struct{ name, send, want string }{
		{"keep-alive, pipelined, split, then close",
			get + get + get[:10] + "|" + get[10:] + "GET /x HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n",
			ok + ok + ok + okClose},
		{"HTTP/1.0 closes", "GET / HTTP/1.0\r\n\r\n", okClose},
		{"POST", "POST / HTTP/1.1\r\nHost: x\r\n\r\n",
			"HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 29\r\nAllow: GET, HEAD\r\nConnection: close\r\n\r\nonly GET and HEAD are served\n"},
		{"malformed", get + "nonsense\r\n\r\n" + get,
			ok + "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 18\r\nConnection: close\r\n\r\nmalformed request\n"},
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		for _, part := range strings.Split(c.send, "|") {
			if _, err := io.WriteString(conn, part); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond) // let the server read the parts apart
		}
		got, err := io.ReadAll(conn) // the server must close
		conn.Close()
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if string(got) != c.want {
			t.Errorf("%s: got %q\nwant %q", c.name, got, c.want)
		}
	}
}
