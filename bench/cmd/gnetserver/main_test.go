package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

const ok = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"

// TestSplitHead: a request head that arrives in two reads is answered once
// whole. OnTraffic once handed gnet Discard(0) for an unfinished head, which
// gnet takes as "everything", so the first part was lost and the request
// never answered.
func TestSplitHead(t *testing.T) {
	booted := make(chan gnet.Engine, 1)
	done := make(chan error, 1)
	go func() {
		done <- gnet.Run(&handler{booted: booted}, "tcp://127.0.0.1:0", gnet.WithLogLevel(logging.ErrorLevel))
	}()
	var eng gnet.Engine
	select {
	case eng = <-booted:
	case err := <-done:
		t.Fatalf("gnet.Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("gnet did not boot")
	}
	defer func() {
		if err := eng.Stop(context.Background()); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Errorf("gnet.Run: %v", err)
		}
	}()
	fd, err := eng.Dup()
	if err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	syscall.Close(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port

	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	get := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(c, get[:20]); err != nil {
		t.Fatal(err)
	}
	// gnet must read the first part alone: wait until the server's
	// socket has nothing queued.
	client := c.LocalAddr().(*net.TCPAddr).Port
	for i := 0; ; i++ {
		q, err := rxQueue(port, client)
		if err != nil {
			t.Fatal(err)
		}
		if q == 0 {
			break
		}
		if i == 3000 {
			t.Fatalf("the server's socket still holds %d bytes after 30 s", q)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := io.WriteString(c, get[20:]); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(ok))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading the answer to a head sent in two writes: %v", err)
	}
	if string(got) != ok {
		t.Errorf("answer %q, want %q", got, ok)
	}
}

// rxQueue is the bytes queued unread on the IPv4 loopback socket from
// local port to remote port, from /proc/net/tcp.
func rxQueue(local, remote int) (int64, error) {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, err
	}
	lp, rp := fmt.Sprintf(":%04X", local), fmt.Sprintf(":%04X", remote) // as in "0100007F:1F90"
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.HasSuffix(f[1], lp) || !strings.HasSuffix(f[2], rp) {
			continue
		}
		_, rx, _ := strings.Cut(f[4], ":")
		return strconv.ParseInt(rx, 16, 64)
	}
	return 0, fmt.Errorf("no socket from port %d to %d in /proc/net/tcp", local, remote)
}
