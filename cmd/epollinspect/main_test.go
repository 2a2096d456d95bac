package main

import (
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// quoteRE finds the inspector output quoted in LAYOUT.md: a marker comment
// naming the arch, then a text block.
var quoteRE = regexp.MustCompile("(?s)<!-- epollinspect linux/(\\w+) [^>]*-->\n```text\n(.*?)```")

// mustQuote are the arches whose output LAYOUT.md must quote.
var mustQuote = []string{"amd64", "arm64"}

func quotes(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("../../LAYOUT.md")
	if err != nil {
		t.Fatal(err)
	}
	q := make(map[string]string)
	for _, m := range quoteRE.FindAllStringSubmatch(string(doc), -1) {
		if _, dup := q[m[1]]; dup {
			t.Errorf("LAYOUT.md quotes linux/%s twice", m[1])
		}
		q[m[1]] = m[2]
	}
	for _, arch := range mustQuote {
		if q[arch] == "" {
			t.Errorf("LAYOUT.md has no epollinspect output for linux/%s", arch)
		}
	}
	return q
}

// Each arch checks its own quote: run the inspector in-process and compare
// with LAYOUT.md, so the arm64 quote is checked wherever the arm64 test
// binary runs (under qemu-user in CI, or on a real arm64 kernel). On an arch
// LAYOUT.md does not quote, the inspector must still find that epoll.Event
// matches the kernel's bytes.
func TestLayoutQuote(t *testing.T) {
	q := quotes(t)
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("epollinspect: %v\noutput so far:\n%s", err, out.String())
	}
	want, ok := q[runtime.GOARCH]
	if !ok {
		t.Logf("LAYOUT.md quotes no output for linux/%s; the inspector found epoll.Event right:\n%s", runtime.GOARCH, out.String())
		return
	}
	if out.String() != want {
		t.Errorf("LAYOUT.md's quote for linux/%s is stale. The inspector prints now:\n%s\nLAYOUT.md quotes:\n%s", runtime.GOARCH, out.String(), want)
	}
}

// The output must not depend on fd numbers, addresses or timing.
func TestOutputIsDeterministic(t *testing.T) {
	var a, b strings.Builder
	if err := run(&a); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/dev/null") // shift the fd numbers the second run gets
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := run(&b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("two runs differ:\n%s\n---\n%s", a.String(), b.String())
	}
}
