package main

import (
	"math"
	"slices"
	"testing"
)

func TestMedianAndSpread(t *testing.T) {
	v := []float64{4, 1, 3, 2}
	if got := median(v); got != 2.5 {
		t.Errorf("median of 4 = %v, want 2.5", got)
	}
	if !slices.Equal(v, []float64{4, 1, 3, 2}) {
		t.Errorf("median reordered its argument: %v", v) // the rounds' order is the report's
	}
	if got := median([]float64{5, 1, 3}); got != 3 {
		t.Errorf("median of 3 = %v, want 3", got)
	}
	if got := spread(v); got != 3/2.5 {
		t.Errorf("spread = %v, want (4-1)/2.5", got)
	}
	if !math.IsNaN(median(nil)) || !math.IsNaN(spread([]float64{1})) {
		t.Error("median of nothing or spread of one sample is not NaN")
	}
}

func TestRoundRatios(t *testing.T) {
	s := samples{{"W", "cpu-ns/op"}: {
		"epoll": {110, 100, 120, 999}, // the extra round has no partner
		"raw":   {100, 100, 100},
	}}
	lo, med, hi := roundRatios(s, "W", "cpu-ns/op", "epoll", "raw")
	if lo != 1 || med != 1.1 || hi != 1.2 {
		t.Errorf("roundRatios = %v, %v, %v; want 1, 1.1, 1.2", lo, med, hi)
	}
	if lo, _, _ := roundRatios(s, "W", "cpu-ns/op", "epoll", "unix"); !math.IsNaN(lo) {
		t.Errorf("ratios against a missing implementation: %v, want NaN", lo)
	}
}

// The exact two-sided p-values, from the count of splits of the pooled
// ranks at least as extreme as the observed one.
func TestMannWhitney(t *testing.T) {
	for _, c := range []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 2, 3}, []float64{4, 5, 6}, 2.0 / 20}, // only the two full separations
		{[]float64{4, 5, 6}, []float64{1, 2, 3}, 2.0 / 20}, // two-sided
		{[]float64{1, 2}, []float64{3, 4}, 2.0 / 6},        // what n=2+2 can reach at best
		{[]float64{1, 4}, []float64{2, 3}, 1},              // no difference in rank sums
		{[]float64{7, 7, 7}, []float64{7, 7, 7}, 1},        // all tied
		{[]float64{1, 2, 3, 4, 5, 6}, []float64{7, 8, 9, 10, 11, 12}, 2.0 / 924},
	} {
		if got := mannWhitney(c.a, c.b); !near(got, c.want) {
			t.Errorf("mannWhitney(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	if p := mannWhitney(nil, []float64{1}); !math.IsNaN(p) {
		t.Errorf("with an empty group: %v, want NaN", p)
	}
	if p := mannWhitney(make([]float64, 13), make([]float64, 12)); !math.IsNaN(p) {
		t.Errorf("with 25 samples (2^25 splits): %v, want NaN", p)
	}
}
