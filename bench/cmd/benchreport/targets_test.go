package main

import (
	"strings"
	"testing"
)

// TestTargets checks the verdicts on smallRun's figures: each target met or
// missed by the right ratio, with benchstat's or the servers' p-value.
func TestTargets(t *testing.T) {
	s, wake, servers := smallRun(t)
	var b strings.Builder
	targets(&b, s, wake, servers)
	wantLines(t, b.String(), []string{
		// wall 105 vs 100 misses 3%; CPU 101 vs 100 meets it, with benchstat's p
		"| Wait(0), 1 ready fd: within 3% of the RawSyscall6 floor | 105 vs 100: 1.050× (+5.0%) | **missed** | 101 vs 100: 1.010× (+1.0%, p=0.500 n=2) | **met** |",
		"| Wait(0): at least 10% faster than unix.EpollWait | 105 vs 120: 0.875× (-12.5%) | **met** |",
		"| Wait(0) with 100k idle fds within 10% of 10 idle fds | – vs –: – (–) | **not measured** | – vs –: – (–) | **not measured** |",
		"| 0 allocs/op in every benchmark of this package | at most 0 allocs/op | **met** |",
		"| evserver req/s ≥ 1.10× gnet's, 100 connections | 2100 vs 1700: 1.235× (p=0.333 n=2+2) | **met** |",
		"| evserver req/s ≥ 1.40× net's, 100 connections | 2100 vs 1000: 2.100× (p=0.333 n=2+2) | **met** |",
		"| evserver CPU per request ≤ 0.90× gnet's, 100 connections | 50 vs 62.5 µs: 0.800× (p=0.333 n=2+2) | **met** |",
		"0.50 vs 8 KiB: 0.062× | **met** |",
		"| evserver idle memory per connection ≤ gnet's | 0.50 vs 2 KiB: 0.250× | **met** |",
		"| evserver system calls per request ≤ gnet's | 2.5 vs 3: 0.833× | **met** |",
		"| Wake storm (8 goroutines): at least 10× fewer eventfd writes than Wakes | 0.001 writes per Wake (1000.000× fewer) | **met** |",
		"| Wake storm: 0 lost wakes | 0 lost over 1 rounds (and TestWakeStormLosesNoTask) | **met** |",
	})
}

// Without server figures the server targets are missed, not left out.
func TestTargetsWithoutServers(t *testing.T) {
	s, _, _ := smallRun(t)
	var b strings.Builder
	targets(&b, s, nil, nil)
	wantLines(t, b.String(), []string{"| event-loop server targets | not measured | **missed** |"})
	if strings.Contains(b.String(), "Wake storm") {
		t.Errorf("a Wake storm row without Wake storm figures:\n%s", b.String())
	}
}
