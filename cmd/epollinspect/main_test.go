package main

import (
	"flag"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/rawpoll/epoll/internal/arch"
)

var update = flag.Bool("update", false, "rewrite doc/layout/quotes.md's quote for this arch (and the pictures drawn here) with what the inspector prints now")

// quotesDoc is LAYOUT.md's appendix of the inspector's output.
const quotesDoc = "../../doc/layout/quotes.md"

// quoteRE finds the inspector output quoted in the appendix: a marker comment
// naming the arch, then a text block.
var quoteRE = regexp.MustCompile("(?s)<!-- epollinspect linux/(\\w+) [^>]*-->\n```text\n(.*?)```")

// quotes returns the appendix and, for each arch it quotes, where the quote's
// text starts and ends in it. Every arch of internal/arch must be quoted
// once, and nothing else.
func quotes(t *testing.T) (string, map[string][2]int) {
	t.Helper()
	doc, err := os.ReadFile(quotesDoc)
	if err != nil {
		t.Fatal(err)
	}
	q := make(map[string][2]int)
	for _, m := range quoteRE.FindAllStringSubmatchIndex(string(doc), -1) {
		a := string(doc[m[2]:m[3]])
		if _, dup := q[a]; dup {
			t.Errorf("doc/layout/quotes.md quotes linux/%s twice", a)
		}
		if _, ok := arch.Lookup(a); !ok {
			t.Errorf("doc/layout/quotes.md quotes linux/%s, which internal/arch lacks", a)
		}
		q[a] = [2]int{m[4], m[5]}
	}
	for _, a := range arch.Names() {
		if _, ok := q[a]; !ok {
			t.Errorf("doc/layout/quotes.md has no epollinspect output for linux/%s", a)
		}
	}
	return string(doc), q
}

// Each arch checks its own quote: run the inspector in-process and compare
// with the appendix, so the arm64 quote is checked wherever the arm64 test
// binary runs (under qemu-user in scripts/qemu-test.sh, or on a real arm64
// kernel). With -update it rewrites that quote instead.
func TestLayoutQuote(t *testing.T) {
	doc, q := quotes(t)
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("epollinspect: %v\noutput so far:\n%s", err, out.String())
	}
	span, ok := q[runtime.GOARCH]
	if !ok {
		t.Fatalf("doc/layout/quotes.md quotes no output for linux/%s. The inspector prints:\n%s", runtime.GOARCH, out.String())
	}
	want := doc[span[0]:span[1]]
	switch {
	case out.String() == want:
	case *update:
		doc = doc[:span[0]] + out.String() + doc[span[1]:]
		if err := os.WriteFile(quotesDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote doc/layout/quotes.md's quote for linux/%s", runtime.GOARCH)
	default:
		t.Errorf("doc/layout/quotes.md's quote for linux/%s is stale (go test -update on that arch rewrites it). The inspector prints now:\n%s\ndoc/layout/quotes.md quotes:\n%s", runtime.GOARCH, out.String(), want)
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

// Each quote's heading says where the quote came from, as internal/arch
// has it: natively or under which qemu-user, and which Debian kernels
// scripts/kernel-test.sh checks it on too.
func TestQuoteProvenance(t *testing.T) {
	doc, err := os.ReadFile(quotesDoc)
	if err != nil {
		t.Fatal(err)
	}
	heads := make(map[string]string)
	for _, m := range regexp.MustCompile(`(?m)^(?:#### |<details><summary>)linux/(\w+), (.*)$`).FindAllStringSubmatch(string(doc), -1) {
		heads[m[1]] = m[2]
	}
	for _, a := range arch.All {
		h, ok := heads[a.GOARCH]
		if !ok {
			t.Errorf("doc/layout/quotes.md: no heading for linux/%s's quote", a.GOARCH)
			continue
		}
		var want []string
		if a.Qemu() != "" {
			want = append(want, "under "+a.Qemu())
		} else {
			want = append(want, "native")
		}
		if a.KernelFlavour != "" {
			want = append(want, "Debian", a.KernelFlavour)
			want = append(want, strings.Fields(a.KernelSuites)...)
		}
		for _, w := range want {
			if !strings.Contains(h, w) {
				t.Errorf("doc/layout/quotes.md's heading for linux/%s does not say %q: %s", a.GOARCH, w, h)
			}
		}
		if a.KernelFlavour == "" && strings.Contains(h, "Debian") {
			t.Errorf("doc/layout/quotes.md's heading for linux/%s names a Debian kernel, but kernel-test.sh boots none: %s", a.GOARCH, h)
		}
	}
}
