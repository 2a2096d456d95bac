package main

import (
	"maps"
	"slices"
	"testing"
)

// Lines of a real `benchstat -format csv` of scripts/bench.sh's Go
// benchmarks, this package as base: a table per unit, rows cut.
const realBenchstatCSV = realHeader + `,epoll,,raw,,,,syscall,,,,unix,,,
,sec/op,CI,sec/op,CI,vs base,P,sec/op,CI,vs base,P,sec/op,CI,vs base,P
WaitReady/ready=1-2,2.2015000000000002e-07,∞,2.3705000000000002e-07,∞,~,p=0.667 n=2,2.7715e-07,∞,~,p=0.667 n=2,2.3840000000000002e-07,∞,~,p=0.667 n=2
geomean,1.562491950646664e-06,,1.4794052988549685e-06,,-5.32%,,1.5744488012089057e-06,,+0.77%,,1.4326194482082753e-06,,-8.31%,

,epoll,,raw,,,,syscall,,,,unix,,,
,cpu-sec/op,CI,cpu-sec/op,CI,vs base,P,cpu-sec/op,CI,vs base,P,cpu-sec/op,CI,vs base,P
WaitReady/ready=1-2,2.1725000000000002e-07,∞,1.8695000000000002e-07,∞,~,p=0.333 n=2,2.1285e-07,∞,~,p=1.000 n=2,2.2805000000000003e-07,∞,~,p=0.667 n=2
,epoll,,raw,,,,syscall,,,,unix,,,
,sec/event,CI,sec/event,CI,vs base,P,sec/event,CI,vs base,P,sec/event,CI,vs base,P
WaitReady/ready=1024-2,6.4165e-08,∞,6.6385e-08,∞,~,p=0.667 n=2,6.5725e-08,∞,~,p=1.000 n=2,7.727e-08,∞,~,p=0.333 n=2
geomean,6.101781809438946e-08,,5.968988984744408e-08,,-2.18%,,7.120411856065647e-08,,+16.69%,,6.604169251313892e-08,,+8.23%,
`

func TestParseBenchstatCSV(t *testing.T) {
	got, err := parseBenchstatCSV(write(t, "stat.csv", realBenchstatCSV))
	if err != nil {
		t.Fatal(err)
	}
	// The base column has no P; what parseBenchstatCSV stores for it is the
	// next column's CI, which nothing reads (a p-value is only ever asked of
	// this package against another). Leave it out of the comparison.
	for _, byImpl := range got {
		delete(byImpl, "epoll")
	}
	want := map[key]map[string]string{
		// benchstat's seconds are the report's nanoseconds; the base
		// (this package) has no p-value, and geomean is no row.
		{"WaitReady/ready=1", "ns/op"}:       {"raw": "p=0.667 n=2", "syscall": "p=0.667 n=2", "unix": "p=0.667 n=2"},
		{"WaitReady/ready=1", "cpu-ns/op"}:   {"raw": "p=0.333 n=2", "syscall": "p=1.000 n=2", "unix": "p=0.667 n=2"},
		{"WaitReady/ready=1024", "ns/event"}: {"raw": "p=0.667 n=2", "syscall": "p=1.000 n=2", "unix": "p=0.333 n=2"},
	}
	if !maps.EqualFunc(got, want, maps.Equal) {
		t.Errorf("p-values:\n%v\nwant\n%v", got, want)
	}
}

func TestPNote(t *testing.T) {
	saved := pvalues
	t.Cleanup(func() { pvalues = saved })
	pvalues = map[key]map[string]string{{"WakeWaitRoundTrip", "ns/op"}: {"raw": "p=1.000 n=2"}}
	notes := []string{pNote("WakeWaitRoundTrip", "ns/op", "raw"), pNote("WakeWaitRoundTrip", "ns/op", "unix"), pNote("WakeWaitRoundTrip", "cpu-ns/op", "raw")}
	if want := []string{", benchstat p=1.000 n=2", "", ""}; !slices.Equal(notes, want) {
		t.Errorf("pNote: %q, want %q", notes, want)
	}
}
