// Command flamegraph draws a flame graph, as an SVG file, from the output
// of `perf script` on a `perf record -g` profile: each sample's call stack
// is folded root first, and every frame becomes a box as wide as the share
// of samples it appears in, its callers below it and its callees above.
// scripts/flamegraph.sh runs it for the servers; no flame graph tool is
// packaged in Debian, and this is the whole of what that needs.
//
//	perf script -i perf.data | flamegraph -title "evserver" >evserver.svg
package main

import (
	"bufio"
	"flag"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"log"
	"os"
	"slices"
	"strings"
)

func main() {
	title := flag.String("title", "flame graph", "the title written above the graph")
	width := flag.Int("width", 1200, "width of the SVG in pixels")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("flamegraph: ")
	root, err := fold(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	if root.samples == 0 {
		log.Fatal("no samples in the input: is it `perf script` of a `perf record -g` profile?")
	}
	w := bufio.NewWriter(os.Stdout)
	draw(w, root, *title, *width)
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}

// node is a frame and the samples whose stacks pass through it.
type node struct {
	name     string
	samples  int
	children map[string]*node
}

func (n *node) child(name string) *node {
	if n.children == nil {
		n.children = map[string]*node{}
	}
	c := n.children[name]
	if c == nil {
		c = &node{name: name}
		n.children[name] = c
	}
	return c
}

// fold reads perf script's samples: a header line ("comm pid [cpu] time:
// period event:"), then one indented line per frame, innermost first
// ("addr symbol+0xoff (dso)"), then a blank line. The root's children are
// the thread names.
func fold(r io.Reader) (*node, error) {
	root := &node{name: "all"}
	var comm string
	var stack []string
	flush := func() {
		if comm == "" {
			return
		}
		n := root.child(comm)
		root.samples++
		n.samples++
		for i := len(stack) - 1; i >= 0; i-- {
			n = n.child(stack[i])
			n.samples++
		}
		comm, stack = "", stack[:0]
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] != ' ' && line[0] != '\t':
			flush()
			comm = strings.Fields(line)[0]
		default:
			stack = append(stack, frameName(strings.TrimSpace(line)))
		}
	}
	flush()
	return root, sc.Err()
}

// frameName is the symbol of "addr symbol+0xoff (dso)", or "[dso]" when
// perf has no symbol for it.
func frameName(s string) string {
	_, s, _ = strings.Cut(s, " ") // the address
	dso := ""
	if i := strings.LastIndex(s, " ("); i >= 0 {
		dso, s = strings.TrimSuffix(s[i+2:], ")"), s[:i]
	}
	if i := strings.LastIndex(s, "+0x"); i > 0 {
		s = s[:i]
	}
	if s == "" || s == "[unknown]" {
		return "[" + dso + "]"
	}
	return s
}

const (
	frameHeight = 16
	top         = 40 // room for the title
	minWidth    = 0.5
)

// draw writes the SVG: the root at the bottom, children sorted by name.
func draw(w io.Writer, root *node, title string, width int) {
	depth := maxDepth(root)
	height := top + (depth+1)*frameHeight + 10
	scale := float64(width-20) / float64(root.samples)
	fmt.Fprintf(w, `<?xml version="1.0" standalone="no"?>
<svg version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" font-family="Verdana, sans-serif" font-size="11">
<rect x="0" y="0" width="%d" height="%d" fill="#f8f8f0"/>
<text x="%d" y="22" text-anchor="middle" font-size="16">%s</text>
<text x="10" y="36" font-size="11" fill="#555">%d samples; width is the share of samples, callers below callees; hover a box for its figures</text>
`, width, height, width, height, width, height, width/2, html.EscapeString(title), root.samples)
	var walk func(n *node, x float64, level int)
	walk = func(n *node, x float64, level int) {
		wd := float64(n.samples) * scale
		if wd < minWidth {
			return
		}
		y := height - 10 - (level+1)*frameHeight
		name := html.EscapeString(n.name)
		fmt.Fprintf(w, "<g><title>%s (%d samples, %.2f%%)</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" rx=\"2\"/>",
			name, n.samples, 100*float64(n.samples)/float64(root.samples), x, y, wd, frameHeight-1, color(n.name))
		if chars := int(wd / 7); chars >= 3 {
			label := n.name
			if len(label) > chars {
				label = label[:chars-2] + ".."
			}
			fmt.Fprintf(w, "<text x=\"%.1f\" y=\"%d\">%s</text>", x+3, y+frameHeight-4, html.EscapeString(label))
		}
		fmt.Fprintln(w, "</g>")
		names := make([]string, 0, len(n.children))
		for k := range n.children {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			c := n.children[k]
			walk(c, x, level+1)
			x += float64(c.samples) * scale
		}
	}
	walk(root, 10, 0)
	fmt.Fprintln(w, "</svg>")
}

func maxDepth(n *node) int {
	d := 0
	for _, c := range n.children {
		d = max(d, 1+maxDepth(c))
	}
	return d
}

// color is a warm color fixed by the name, so a function keeps its color
// across graphs; the kernel's frames are shades of orange, Go's of red.
func color(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name)) //nolint:errcheck // a hash never fails
	v := h.Sum32()
	r, g, b := 200+v%55, 60+(v>>8)%100, 40+(v>>16)%40
	if !strings.Contains(name, ".") || strings.HasPrefix(name, "[") {
		g += 60 // C and kernel symbols have no package dot
	}
	return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b)
}
