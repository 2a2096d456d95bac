package main

import (
	"strings"
	"testing"
)

const script = `evserver 100/101 [001] 10.000001:     1001001 cpu-clock:ppp: 
	ffffffff81000001 do_syscall_64+0x51 ([kernel.kallsyms])
	4a1234 syscall.RawSyscall6+0x12 (/tmp/evserver)
	4a2000 main.(*loop).serve+0x40 (/tmp/evserver)

evserver 100/101 [001] 10.001001:     1001001 cpu-clock:ppp: 
	4a2000 main.(*loop).serve+0x40 (/tmp/evserver)

gnetserver 200/201 [000] 10.001001:     1001001 cpu-clock:ppp: 
	7f0000000001 [unknown] (/usr/lib/libc.so.6)
`

// Stacks fold root first under their thread's name, offsets and addresses
// dropped, unknown symbols named by their file; the SVG has a box per
// frame with its share.
func TestFoldAndDraw(t *testing.T) {
	root, err := fold(strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	if root.samples != 3 {
		t.Fatalf("root has %d samples, want 3", root.samples)
	}
	serve := root.children["evserver"].children["main.(*loop).serve"]
	if serve == nil || serve.samples != 2 {
		t.Fatalf("evserver;main.(*loop).serve = %+v, want 2 samples", serve)
	}
	leaf := serve.children["syscall.RawSyscall6"].children["do_syscall_64"]
	if leaf == nil || leaf.samples != 1 {
		t.Fatalf("the kernel frame above RawSyscall6 = %+v, want 1 sample", leaf)
	}
	if u := root.children["gnetserver"].children["[/usr/lib/libc.so.6]"]; u == nil || u.samples != 1 {
		t.Fatalf("unknown frame = %+v, want it named by its file", u)
	}
	var svg strings.Builder
	draw(&svg, root, "a <title>", 1200)
	out := svg.String()
	for _, want := range []string{"<svg ", "a &lt;title&gt;", "main.(*loop).serve (2 samples, 66.67%)", "do_syscall_64 (1 samples, 33.33%)", "</svg>"} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if n := strings.Count(out, "<rect "); n != 1+7 { // background + all, 2 threads, 4 frames
		t.Errorf("%d rects, want 8", n)
	}
}
