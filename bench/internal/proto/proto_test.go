package proto

import (
	"bytes"
	"os"
	"testing"
)

// TestCopyIsCurrent: http.go is cmd/evserver's, as go generate copies it.
func TestCopyIsCurrent(t *testing.T) {
	src, err := os.ReadFile("../../../cmd/evserver/http.go")
	if err != nil {
		t.Fatal(err)
	}
	body, found := bytes.CutPrefix(src, []byte("package main\n"))
	if !found {
		t.Fatal("cmd/evserver/http.go does not start with its package clause")
	}
	want := append([]byte("// Code generated from cmd/evserver/http.go by go generate; DO NOT EDIT.\n\npackage proto\n"), body...)
	got, err := os.ReadFile("http.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("http.go differs from cmd/evserver/http.go: run go generate ./internal/proto in bench/")
	}
}

// TestAnswerAll: the copy answers as evserver does.
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
