package bench

import (
	"math"
	"slices"
)

// summarize describes repeated measurements of one quantity.
func summarize(xs []float64) Stats {
	s := Stats{N: len(xs)}
	if s.N == 0 {
		return s
	}
	s.Min, s.Max = slices.Min(xs), slices.Max(xs)
	sorted := slices.Sorted(slices.Values(xs))
	s.Median = (sorted[(s.N-1)/2] + sorted[s.N/2]) / 2
	for _, x := range xs {
		s.Mean += x
	}
	s.Mean /= float64(s.N)
	if s.N < 2 {
		return s
	}
	var ss float64
	for _, x := range xs {
		ss += (x - s.Mean) * (x - s.Mean)
	}
	s.StdDev = math.Sqrt(ss / float64(s.N-1))
	s.CI95 = tCritical(float64(s.N-1)) * s.StdDev / math.Sqrt(float64(s.N))
	return s
}

// tTable holds the two-sided 95 % critical values of Student's t for 1
// to 30 degrees of freedom.
var tTable = [...]float64{
	12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
}

// tTable99 holds the two-sided 99 % critical values of Student's t for 1
// to 30 degrees of freedom.
var tTable99 = [...]float64{
	63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.250, 3.169,
	3.106, 3.055, 3.012, 2.977, 2.947, 2.921, 2.898, 2.878, 2.861, 2.845,
	2.831, 2.819, 2.807, 2.797, 2.787, 2.779, 2.771, 2.763, 2.756, 2.750,
}

// tCritical is the two-sided 95 % critical value of Student's t for df
// degrees of freedom.
func tCritical(df float64) float64 { return tLookup(tTable[:], 1.96, df) }

// tCritical99 is the two-sided 99 % critical value of Student's t.
func tCritical99(df float64) float64 { return tLookup(tTable99[:], 2.576, df) }

// tLookup reads a table of critical values by degrees of freedom, rounded
// down to a whole df (the safer side); past the table, the normal's z.
func tLookup(table []float64, z, df float64) float64 {
	i := int(math.Floor(df))
	switch {
	case i < 1:
		return table[0]
	case i > len(table):
		return z
	}
	return table[i-1]
}

// welchNoise is the half-width of the 99 % confidence interval of the
// difference of two means (Welch's t), and false when either side has
// fewer than two values and so shows no spread. At 99 %, noise alone
// makes a drop this large in about one cell in two hundred.
func welchNoise(a, b Stats) (float64, bool) {
	if a.N < 2 || b.N < 2 {
		return 0, false
	}
	va := a.StdDev * a.StdDev / float64(a.N)
	vb := b.StdDev * b.StdDev / float64(b.N)
	se := math.Sqrt(va + vb)
	if se == 0 {
		return 0, true
	}
	df := (va + vb) * (va + vb) /
		(va*va/float64(a.N-1) + vb*vb/float64(b.N-1))
	return tCritical99(df) * se, true
}
