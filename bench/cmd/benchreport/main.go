// Command benchreport writes BENCHMARKS.md from what scripts/bench.sh
// measured: the raw `go test -bench` output of all rounds, benchstat's
// tables of it, the server figures and a description of the machine. It
// computes every ratio from medians of the same run, checks them against the
// targets of the issue, and says which ones were missed and by how much.
//
// One file per part: gobench.go, benchstat.go and servers.go read the
// inputs, stats.go holds the statistics, targets.go judges the targets,
// report.go writes the Markdown and format.go its numbers.
package main

import (
	"flag"
	"log"
	"os"
	"strings"
)

func main() {
	goFile := flag.String("go", "", "raw `go test -bench` output of every round")
	wakeFile := flag.String("wake", "", "raw `go test -bench WakeStorm` output of the root package, every round")
	statFloor := flag.String("benchstat-floor", "", "benchstat output with the raw floor as base column")
	statPkg := flag.String("benchstat-epoll", "", "benchstat output with this package as base column")
	statCSV := flag.String("benchstat-epoll-csv", "", "the same as -benchstat-epoll, in benchstat's CSV format, for the p-values")
	serverFile := flag.String("server", "", "server figures written by scripts/bench.sh")
	echoFile := flag.String("echo", "", "raw `go test -bench BlockingWaitEcho` output of the root package, every round")
	machineFile := flag.String("machine", "", "machine description written by scripts/bench.sh")
	command := flag.String("command", "scripts/bench.sh", "the command that reproduces the run")
	out := flag.String("o", "BENCHMARKS.md", "the file to write")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchreport: ")

	samples, err := parseGo(*goFile)
	if err != nil {
		log.Fatal(err)
	}
	if *statCSV != "" {
		if pvalues, err = parseBenchstatCSV(*statCSV); err != nil {
			log.Fatal(err)
		}
	}
	var wake map[key]map[string][]float64
	if *wakeFile != "" {
		if wake, err = parseGo(*wakeFile); err != nil {
			log.Fatal(err)
		}
	}
	if *echoFile != "" {
		if echo, err = parseGo(*echoFile); err != nil {
			log.Fatal(err)
		}
	}
	var servers []serverRow
	if *serverFile != "" {
		if servers, err = parseServer(*serverFile); err != nil {
			log.Fatal(err)
		}
	}
	var w strings.Builder
	report(&w, samples, wake, servers, readOr(*machineFile), readOr(*statFloor), readOr(*statPkg), *command)
	if err := os.WriteFile(*out, []byte(w.String()), 0o644); err != nil { //nolint:gosec // G306: a report for the repository, readable by all
		log.Fatal(err)
	}
}

func readOr(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path) //nolint:gosec // G304: a file named on the command line
	if err != nil {
		log.Fatal(err)
	}
	return strings.TrimRight(string(b), "\n")
}
