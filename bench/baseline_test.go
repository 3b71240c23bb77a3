package bench

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// noisyReport is a report whose cells each repeat k times around mean,
// with a relative spread drawn from rng, and whose floor runs at twice
// the flow's throughput.
func noisyReport(rng *rand.Rand, k int, mean, spread float64) *Report {
	r := &Report{Format: FormatVersion, Backend: "embedded"}
	for _, s := range []string{"setnx", "db-unique", "advisory"} {
		for _, n := range []int{1, 8, 64} {
			for _, kind := range []string{KindFlow, KindFloor} {
				m := mean * float64(n)
				if kind == KindFloor {
					m *= 2
				}
				r.Cells = append(r.Cells, cellAround(rng, kind, s, n, k, m, spread))
			}
		}
	}
	return r
}

func cellAround(rng *rand.Rand, kind, strategy string, workers, k int,
	mean, spread float64) Cell {
	var xs []float64
	for range k {
		xs = append(xs, mean*(1+spread*(2*rng.Float64()-1)))
	}
	return Cell{Kind: kind, Strategy: strategy, Workers: workers,
		Throughput: summarize(xs)}
}

// scaleCell multiplies the throughput of one cell by f.
func scaleCell(r *Report, key string, f float64) {
	for i, c := range r.Cells {
		if c.Key() == key {
			s := &r.Cells[i].Throughput
			s.Mean, s.StdDev, s.CI95 = s.Mean*f, s.StdDev*f, s.CI95*f
			s.Min, s.Max = s.Min*f, s.Max*f
		}
	}
}

func TestRunsThatDifferOnlyByNoiseAlmostNeverShowARegression(t *testing.T) {
	flagged, compared := 0, 0
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		old := noisyReport(rng, 5, 500, 0.08)
		cur := noisyReport(rng, 5, 500, 0.08)
		flagged += len(Regressions(Compare(old, cur, 0)))
		compared += len(old.Cells) / 2
	}
	// A 99 % interval lets noise through in about one cell in two
	// hundred; the minimum drop stops most of those.
	require.LessOrEqual(t, float64(flagged)/float64(compared), 0.005,
		"%d of %d cells", flagged, compared)
}

func TestAnInjectedDropBeyondTheNoiseIsARegressionNamingItsCell(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	old := noisyReport(rng, 5, 500, 0.05)
	cur := noisyReport(rng, 5, 500, 0.05)
	scaleCell(cur, "flow setnx workers=8", 0.7)

	regs := Regressions(Compare(old, cur, 0))
	require.Len(t, regs, 1)
	require.Equal(t, "flow setnx workers=8", regs[0].Key)
	require.InDelta(t, -0.3, regs[0].Change, 0.08)

	var out bytes.Buffer
	require.NoError(t, WriteComparison(&out, Compare(old, cur, 0)))
	require.Contains(t, out.String(), "regression: flow setnx workers=8: ")
}

func TestADropWithinTheNoiseOfNoisyRunsIsNotARegression(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	old := noisyReport(rng, 3, 500, 0.4)
	cur := noisyReport(rng, 3, 500, 0.4)
	scaleCell(cur, "flow setnx workers=8", 0.85)
	for _, c := range Compare(old, cur, 0) {
		if c.Key == "flow setnx workers=8" {
			require.Equal(t, VerdictSame, c.Verdict, "noise ±%.0f%%", 100*c.Noise)
		}
	}
}

func TestASingleRepeatFallsBackToTheMinimumDrop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	old := noisyReport(rng, 1, 500, 0)
	cur := noisyReport(rng, 1, 500, 0)
	scaleCell(cur, "flow advisory workers=1", 0.97)
	scaleCell(cur, "flow advisory workers=64", 0.80)

	regs := Regressions(Compare(old, cur, 0.05))
	require.Len(t, regs, 1)
	require.Equal(t, "flow advisory workers=64", regs[0].Key)
	require.True(t, regs[0].NoNoise)
}

func TestAFloorThatDropsIsNoRegressionButIsNotedBesideItsFlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	old := noisyReport(rng, 5, 500, 0.02)
	cur := noisyReport(rng, 5, 500, 0.02)
	scaleCell(cur, "flow db-unique workers=64", 0.5)
	scaleCell(cur, "floor db-unique workers=64", 0.5)

	regs := Regressions(Compare(old, cur, 0))
	require.Len(t, regs, 1)
	require.Equal(t, "flow db-unique workers=64", regs[0].Key)
	require.Contains(t, regs[0].FloorNote, "floor dropped")
}

func TestACellTheBaselineLacksIsNew(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	old := noisyReport(rng, 3, 500, 0.05)
	cur := noisyReport(rng, 3, 500, 0.05)
	cur.Cells = append(cur.Cells, cellAround(rng, KindFlow, "legacy", 8, 3, 10, 0.1))
	cs := Compare(old, cur, 0)
	require.Equal(t, VerdictNew, cs[len(cs)-1].Verdict)
	require.Empty(t, Regressions(cs))
}

func TestStatsGiveTheMeanAndAStudentInterval(t *testing.T) {
	s := summarize([]float64{10, 12, 14})
	require.Equal(t, 3, s.N)
	require.InDelta(t, 12, s.Mean, 1e-9)
	require.InDelta(t, 12, s.Median, 1e-9)
	require.InDelta(t, 11, summarize([]float64{12, 10, 100, 1}).Median, 1e-9)
	require.InDelta(t, 2, s.StdDev, 1e-9)
	require.InDelta(t, 4.303*2/1.7320508, s.CI95, 1e-3)
	require.Zero(t, summarize([]float64{5}).CI95)
}
