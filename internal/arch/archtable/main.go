// Command archtable prints internal/arch's table for shell scripts, one
// line per architecture, so that they walk the same list as the tests:
//
//	go run ./internal/arch/archtable                  # GOARCH qemu debian flavour size offset order
//	go run ./internal/arch/archtable -f '{{.GOARCH}} {{.Qemu}}'
//	go run ./internal/arch/archtable -f '{{.Debian}}' arm64 s390x
//
// The default columns print "-" for an empty field, so that `read` keeps
// them apart. -f is a text/template over internal/arch.Arch (fields and
// methods). Naming an architecture the table lacks is an error (exit 2).
package main

import (
	"flag"
	"fmt"
	"os"
	"text/template"

	"github.com/rawpoll/epoll/internal/arch"
)

const defaultFormat = `{{.GOARCH}} {{or .Qemu "-"}} {{.Debian}} {{or .KernelFlavour "-"}} {{.Size}} {{.DataOffset}} {{.Endian}}`

func main() {
	format := flag.String("f", defaultFormat, "text/template for each line, over internal/arch.Arch")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: archtable [-f template] [GOARCH...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	tmpl, err := template.New("line").Parse(*format + "\n")
	if err != nil {
		fmt.Fprintln(os.Stderr, "archtable:", err)
		os.Exit(2)
	}
	arches := arch.All
	if flag.NArg() > 0 {
		arches = nil
		for _, name := range flag.Args() {
			a, ok := arch.Lookup(name)
			if !ok {
				fmt.Fprintf(os.Stderr, "archtable: GOARCH %q is not in internal/arch (known: %v)\n", name, arch.Names())
				os.Exit(2)
			}
			arches = append(arches, a)
		}
	}
	for _, a := range arches {
		if err := tmpl.Execute(os.Stdout, a); err != nil {
			fmt.Fprintln(os.Stderr, "archtable:", err)
			os.Exit(1)
		}
	}
}
