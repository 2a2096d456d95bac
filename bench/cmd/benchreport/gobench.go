// The Go benchmarks' samples: `go test -bench` output of every round, by
// benchmark row, unit and implementation.

package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// key names one benchmark row and unit, such as ("WaitReady/ready=1", "ns/op").
type key struct{ row, unit string }

// samples holds every measured value by row and unit, then by implementation.
type samples map[key]map[string][]float64

// parseGo reads lines such as
// "BenchmarkWaitReady/ready=64/impl=raw-2  1000  9992 ns/op  156.1 ns/event  0 B/op  0 allocs/op".
func parseGo(path string) (samples, error) {
	f, err := os.Open(path) //nolint:gosec // G304: a file named on the command line
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := samples{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		row, impl, ok := strings.Cut(name, "/impl=")
		if !ok {
			continue
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %v", path, sc.Text(), err)
			}
			k := key{row, fields[i+1]}
			if s[k] == nil {
				s[k] = map[string][]float64{}
			}
			s[k][impl] = append(s[k][impl], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", path)
	}
	return s, nil
}

func (s samples) med(row, unit, impl string) float64 { return median(s[key{row, unit}][impl]) }
