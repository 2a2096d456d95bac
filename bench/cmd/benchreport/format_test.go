package main

import (
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct{ got, want string }{
		{num(105), "105"},
		{num(233772.05), "233772"},
		{num(62.5), "62.5"},
		{num(3.739), "3.74"},
		{num(0.5), "0.50"},
		{num(nan), "–"},
		{num3(0.0002004), "0.0002"},
		{num3(2.941428), "2.94"},
		{num3(nan), "–"},
		{ratio(105, 100), "1.050×"},
		{ratio(1, 0), "–"},
		{ratio(nan, 1), "–"},
		{ratioF(1 / 0.0002004), "4990.020×"},
		{ratioF(math.Inf(1)), "–"},
		{pct(0.0191), "1.9%"},
		{pct(nan), "–"},
		{signed(0.05), "+5.0%"},
		{signed(-0.125), "-12.5%"},
		{signedNum(3.5), "+3.50"},
		{signedNum(-35), "-35"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
