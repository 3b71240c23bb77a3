package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Terminal writes r as tables for a terminal: every cell, the latency of
// each phase at the focus worker count, the hook's cost and the goals.
func Terminal(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "dedupsim bench on the %s backend: %s\n%s\n\n", r.Backend,
		describeWorkload(r), describeEnvironment(r))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  strategy\tworkers\tmsg/s\tfloor msg/s\tratio\t"+
		"p50 ms\tp95 ms\tp99 ms\tcpu µs/msg\tpeak RSS\tdup\tlost\terr")
	for _, rw := range r.rows() {
		c := rw.Main
		dup, lost, errs := counts(c.Correctness)
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\n",
			rw.Strategy, rw.Workers, throughput(c.Throughput), floorThroughput(rw),
			ratio(rw), latencyAt(c, "total", p50), latencyAt(c, "total", p95),
			latencyAt(c, "total", p99), c.CPUPerMessage, megabytes(c.PeakRSS),
			dup, lost, errs)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write bench table: %w", err)
	}
	if err := terminalPhases(w, r); err != nil {
		return err
	}
	return terminalFooter(w, r)
}

// terminalPhases writes the p50 / p99 of each phase at the focus worker
// count, flow beside floor.
func terminalPhases(w io.Writer, r *Report) error {
	n := r.focusWorkers()
	fmt.Fprintf(w, "\nlatency per phase at %d workers, ms, p50 / p99 (flow; floor)\n", n)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  strategy\tclaim\tinsert\tcommit\tdispatch")
	for _, rw := range r.rows() {
		if rw.Workers != n || rw.Main.Kind != KindFlow {
			continue
		}
		fmt.Fprintf(tw, "  %s", rw.Strategy)
		for _, s := range Series[1:] {
			cell := percentiles(rw.Main, s)
			if rw.Floor != nil {
				cell += "; " + percentiles(*rw.Floor, s)
			}
			fmt.Fprintf(tw, "\t%s", cell)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write bench phases: %w", err)
	}
	return nil
}

// terminalFooter writes the hook's cost and the goals.
func terminalFooter(w io.Writer, r *Report) error {
	if r.Hook != nil {
		fmt.Fprintf(w, "\n%s\n", describeHook(r.Hook))
	}
	goals := Goals(r)
	if len(goals) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\ngoals")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, g := range goals {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", g.Name, g.Target, g.Measured,
			g.Result(), g.Note)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write bench goals: %w", err)
	}
	return nil
}

// Result is the goal's verdict in a word or two: met, missed or not judged.
func (g Goal) Result() string {
	if g.Unjudged {
		return "not judged"
	}
	if g.Met {
		return "met"
	}
	return "missed"
}
