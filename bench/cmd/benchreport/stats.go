// The statistics: medians, spread, per-round ratios and the exact
// Mann-Whitney U test.

package main

import (
	"cmp"
	"math"
	"slices"
)

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Sorted(slices.Values(v))
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// spread is the range of the samples relative to their median, the noise
// a reader should keep in mind before trusting a small ratio.
func spread(v []float64) float64 {
	if len(v) < 2 {
		return math.NaN()
	}
	return (slices.Max(v) - slices.Min(v)) / median(v)
}

// roundRatios is the lowest, median and highest ratio a/b of the same
// round's samples: the spread over runs, each round being its own process.
func roundRatios(s samples, row, unit, a, b string) (lo, med, hi float64) {
	va, vb := s[key{row, unit}][a], s[key{row, unit}][b]
	var r []float64
	for i := range min(len(va), len(vb)) {
		r = append(r, va[i]/vb[i])
	}
	if len(r) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	return slices.Min(r), median(r), slices.Max(r)
}

// mannWhitney is the two-sided p-value of the Mann-Whitney U test, exact:
// every split of the pooled samples into groups of the two sizes is tried
// (924 for 6 and 6), ties ranked by their average.
func mannWhitney(a, b []float64) float64 {
	n := len(a) + len(b)
	if len(a) == 0 || len(b) == 0 || n > 24 {
		return math.NaN()
	}
	pooled := append(slices.Clone(a), b...)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return cmp.Compare(pooled[i], pooled[j]) })
	rank := make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j < n && pooled[idx[j]] == pooled[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			rank[idx[k]] = float64(i+j+1) / 2
		}
		i = j
	}
	mean := float64(len(a)*(len(b))) / 2
	u := func(mask uint32) float64 {
		var sum float64
		for i := range n {
			if mask&(1<<i) != 0 {
				sum += rank[i]
			}
		}
		return sum - float64(len(a)*(len(a)+1))/2
	}
	obs := math.Abs(u(1<<len(a)-1) - mean)
	var extreme, total float64
	for mask := uint32(0); mask < 1<<n; mask++ {
		if bitsSet(mask) != len(a) {
			continue
		}
		total++
		if math.Abs(u(mask)-mean) >= obs-1e-9 {
			extreme++
		}
	}
	return extreme / total
}

func bitsSet(x uint32) int {
	c := 0
	for ; x != 0; x &= x - 1 {
		c++
	}
	return c
}
