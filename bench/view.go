package bench

import (
	"fmt"
	"slices"
)

// row is one line of a report's main table: a strategy's flow cell and
// its floor at one worker count, or a queue cell.
type row struct {
	Strategy string
	Workers  int
	// Main is the flow or queue cell; Floor is nil when there is none.
	Main  Cell
	Floor *Cell
}

// rows lists the report's lines: every flow cell with its floor, by
// strategy and workers, then the queue's cells.
func (r *Report) rows() []row {
	var out, queue []row
	for _, c := range r.Cells {
		switch c.Kind {
		case KindFlow:
			rw := row{Strategy: c.Strategy, Workers: c.Workers, Main: c}
			if f, ok := r.Find(KindFloor, c.Strategy, c.Workers); ok {
				rw.Floor = &f
			}
			out = append(out, rw)
		case KindQueue:
			queue = append(queue, row{Strategy: "queue (take+complete)",
				Workers: c.Workers, Main: c})
		}
	}
	return append(out, queue...)
}

// focusWorkers is the worker count the per-phase tables and the latency
// plots show: 8 when it was measured, else the middle one.
func (r *Report) focusWorkers() int {
	ws := slices.Clone(r.Workload.Workers)
	if len(ws) == 0 {
		return 0
	}
	if slices.Contains(ws, 8) {
		return 8
	}
	slices.Sort(ws)
	return ws[len(ws)/2]
}

// Goal is one of the targets a benchmark is reported against.
type Goal struct {
	Name     string `json:"name"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	// Met is false when the measurement misses the target, or is not there.
	Met bool `json:"met"`
	// Unjudged is true when the run did not meet the goal's conditions
	// (fewer deliveries than it names): the measurement is shown, but
	// neither met nor missed.
	Unjudged bool   `json:"unjudged,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Goals holds the report to the project's performance targets. They are
// reported, never enforced: a miss is information, not a failure.
func Goals(r *Report) []Goal {
	var out []Goal
	for _, c := range r.Cells {
		if c.Kind == KindFlow && c.Workers == 8 && c.FloorRatio > 0 {
			out = append(out, ratioGoal(r, c))
		}
	}
	if r.Hook != nil {
		out = append(out, Goal{Name: "checkpoint hook, recording, nothing pinned",
			Target: "≤ 1 µs", Measured: fmt.Sprintf("%.0f ns", r.Hook.RecordingNs),
			Met:  r.Hook.RecordingNs <= 1000,
			Note: fmt.Sprintf("wall time; %.0f ns of CPU", r.Hook.RecordingCPUNs)})
	}
	if g, ok := rssGoal(r); ok {
		out = append(out, g)
	}
	return out
}

func ratioGoal(r *Report, c Cell) Goal {
	g := Goal{Name: "flow/floor at 8 workers: " + c.Strategy, Target: "≥ 50 %",
		Measured: fmt.Sprintf("%.0f %%", 100*c.FloorRatio), Met: c.FloorRatio >= 0.5}
	if r.Backend == "embedded" {
		g.Note = "the target is for real servers; embedded runs miniredis in-process"
	}
	return g
}

// rssGoal reports the highest peak RSS of the cells at 64 workers.
func rssGoal(r *Report) (Goal, bool) {
	var peak int64
	for _, c := range r.Cells {
		if c.Workers == 64 && c.Kind != KindQueue {
			peak = max(peak, c.PeakRSS)
		}
	}
	if peak == 0 {
		return Goal{}, false
	}
	g := Goal{Name: "peak RSS at 64 workers", Target: "< 100 MB at 10,000 deliveries",
		Measured: megabytes(peak), Met: peak < 100<<20}
	if r.Workload.Deliveries < 10_000 {
		g.Met, g.Unjudged = false, true
		g.Note = fmt.Sprintf("measured at %d deliveries; judged only with --deliveries 10000 or more",
			r.Workload.Deliveries)
	}
	if r.Backend == "embedded" {
		g.Note = join(g.Note, "includes the in-process miniredis")
	}
	return g, true
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// Formatting shared by the reports.

func megabytes(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

func throughput(s Stats) string {
	if s.N == 0 {
		return "-"
	}
	if s.N < 2 {
		return fmt.Sprintf("%.0f", s.Mean)
	}
	return fmt.Sprintf("%.0f ±%.0f", s.Mean, s.CI95)
}

func ratio(rw row) string {
	if rw.Main.FloorRatio == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", rw.Main.FloorRatio)
}

func floorThroughput(rw row) string {
	if rw.Floor == nil {
		return "-"
	}
	return throughput(rw.Floor.Throughput)
}

func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// percentiles writes a series' p50 / p99, "-" when the cell has none.
func percentiles(c Cell, series string) string {
	l, ok := c.Latency[series]
	if !ok {
		return "-"
	}
	return ms(l.P50) + " / " + ms(l.P99)
}

func latencyAt(c Cell, series string, pick func(Latency) float64) string {
	l, ok := c.Latency[series]
	if !ok {
		return "-"
	}
	return ms(pick(l))
}

func p50(l Latency) float64 { return l.P50 }
func p95(l Latency) float64 { return l.P95 }
func p99(l Latency) float64 { return l.P99 }

// counts writes a cell's correctness counters: duplicates, lost, errors.
func counts(c Correctness) (string, string, string) {
	return fmt.Sprint(c.Duplicates), fmt.Sprint(c.Lost), fmt.Sprint(c.Errors)
}

func describeWorkload(r *Report) string {
	w := r.Workload
	repeats := "repeats"
	if w.Repeats == 1 {
		repeats = "repeat"
	}
	s := fmt.Sprintf("%d deliveries per run (%d messages, %.0f%% copied 0–%.0f ms "+
		"after the original), %d senders, %d %s, seed %d", w.Deliveries,
		w.Messages, 100*w.DuplicateRate, w.MaxGapMs, w.Senders, w.Repeats, repeats, w.Seed)
	if w.DurationS > 0 {
		s += fmt.Sprintf(", feeding stopped after %.1f s", w.DurationS)
	}
	return s
}

func describeEnvironment(r *Report) string {
	e := r.Environment
	s := fmt.Sprintf("%s %s/%s, %d CPUs, GOMAXPROCS %d", e.GoVersion, e.OS, e.Arch,
		e.CPUs, e.GOMAXPROCS)
	if e.CPUModel != "" {
		s += ", " + e.CPUModel
	}
	return s
}

func describeHook(h *HookCost) string {
	return fmt.Sprintf("checkpoint hook, one Enter and Done: %.1f ns with no hook; "+
		"%.0f ns (%.0f ns of CPU) through a recording schedule.Controller with "+
		"nothing pinned (%d allocs, %d B)", h.NilNs, h.RecordingNs,
		h.RecordingCPUNs, h.RecordingAllocs, h.RecordingBytes)
}
