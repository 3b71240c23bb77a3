package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// DefaultMinDrop is the smallest drop of mean throughput, as a share of
// the baseline's, that Compare calls a regression, however quiet the
// repeats were.
const DefaultMinDrop = 0.05

// Verdicts of a comparison.
const (
	VerdictRegression = "regression"
	VerdictFaster     = "faster"
	VerdictSame       = "within noise"
	VerdictNew        = "new"
)

// Comparison is one cell held to its baseline.
type Comparison struct {
	// Key names the cell, such as "flow setnx workers=8".
	Key      string
	Old, New Stats
	// Change is the relative change of the mean throughput, negative for a
	// drop.
	Change float64
	// Noise is the half-width of the 99 % confidence interval of the
	// difference of the means, relative to the baseline's mean; NoNoise
	// says a side had a single repeat, so only the minimum drop applies.
	Noise   float64
	NoNoise bool
	// Verdict is one of the Verdict constants. Only flow and queue cells
	// can be regressions: a floor that drops says the machine or the
	// servers got slower, which FloorNote tells beside the flow's cell.
	Verdict   string
	FloorNote string

	// dropped says the mean dropped beyond the bar, whatever the kind.
	dropped bool
}

// Compare holds every cell of cur to the cell of the same key in old. A
// cell is a regression when its mean throughput dropped by more than the
// combined noise of both reports' repeats (Welch's 99 % interval) and by
// more than minDrop of the baseline's mean. minDrop 0 means
// DefaultMinDrop.
func Compare(old, cur *Report, minDrop float64) []Comparison {
	if minDrop == 0 {
		minDrop = DefaultMinDrop
	}
	var out []Comparison
	for _, c := range cur.Cells {
		o, ok := old.Find(c.Kind, c.Strategy, c.Workers)
		if !ok {
			out = append(out, Comparison{Key: c.Key(), New: c.Throughput,
				Verdict: VerdictNew})
			continue
		}
		out = append(out, compareCell(c.Kind, c.Key(), o.Throughput, c.Throughput, minDrop))
	}
	noteFloors(out)
	return out
}

func compareCell(kind, key string, old, cur Stats, minDrop float64) Comparison {
	cmp := Comparison{Key: key, Old: old, New: cur, Verdict: VerdictSame}
	if old.Mean <= 0 {
		return cmp
	}
	drop := old.Mean - cur.Mean
	cmp.Change = -drop / old.Mean
	noise, known := welchNoise(old, cur)
	cmp.Noise, cmp.NoNoise = noise/old.Mean, !known
	bar := math.Max(noise, minDrop*old.Mean)
	cmp.dropped = drop > bar
	switch {
	case cmp.dropped && kind != KindFloor:
		cmp.Verdict = VerdictRegression
	case -drop > bar:
		cmp.Verdict = VerdictFaster
	}
	return cmp
}

// noteFloors tells, beside each flow regression, that its floor dropped
// beyond the noise too.
func noteFloors(cs []Comparison) {
	floors := map[string]Comparison{}
	for _, c := range cs {
		if strings.HasPrefix(c.Key, KindFloor+" ") {
			floors[strings.TrimPrefix(c.Key, KindFloor+" ")] = c
		}
	}
	for i, c := range cs {
		if c.Verdict != VerdictRegression {
			continue
		}
		f, ok := floors[strings.TrimPrefix(c.Key, KindFlow+" ")]
		if ok && f.dropped {
			cs[i].FloorNote = fmt.Sprintf("its floor dropped %.1f%% too: "+
				"the machine or the servers may be slower", -100*f.Change)
		}
	}
}

// Regressions returns the comparisons that are regressions.
func Regressions(cs []Comparison) []Comparison {
	var out []Comparison
	for _, c := range cs {
		if c.Verdict == VerdictRegression {
			out = append(out, c)
		}
	}
	return out
}

// WriteComparison writes the comparisons as a table, then one line per
// regression naming its cell.
func WriteComparison(w io.Writer, cs []Comparison) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  cell\tbaseline msg/s\tnow msg/s\tchange\tnoise\tverdict")
	for _, c := range cs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", c.Key, statsCell(c.Old),
			statsCell(c.New), changeCell(c), noiseCell(c), c.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	for _, c := range Regressions(cs) {
		fmt.Fprintf(w, "regression: %s: %.0f → %.0f msg/s (%+.1f%%), beyond %s\n",
			c.Key, c.Old.Mean, c.New.Mean, 100*c.Change, bound(c))
		if c.FloorNote != "" {
			fmt.Fprintf(w, "  note: %s\n", c.FloorNote)
		}
	}
	return nil
}

func statsCell(s Stats) string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f ±%.0f", s.Mean, s.CI95)
}

func changeCell(c Comparison) string {
	if c.Verdict == VerdictNew {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", 100*c.Change)
}

func noiseCell(c Comparison) string {
	switch {
	case c.Verdict == VerdictNew:
		return "-"
	case c.NoNoise:
		return "n/a"
	}
	return fmt.Sprintf("±%.1f%%", 100*c.Noise)
}

// bound says what a regression's drop went beyond.
func bound(c Comparison) string {
	if c.NoNoise {
		return "the minimum drop (a single repeat shows no noise)"
	}
	return fmt.Sprintf("the noise of ±%.1f%% and the minimum drop", 100*c.Noise)
}
