package bench

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Markdown writes r as Markdown: the workload, every cell, the latency of
// each phase for every flow cell, the hook's cost and the goals.
func Markdown(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# dedupsim bench: %s backend\n\n%s.\n\n%s; started %s, "+
		"took %.0f s.\n\n", r.Backend, describeWorkload(r), describeEnvironment(r),
		r.Started.UTC().Format("2006-01-02 15:04 UTC"), r.Duration)
	markdownCells(bw, r)
	markdownPhases(bw, r)
	if r.Hook != nil {
		fmt.Fprintf(bw, "## Checkpoint hook\n\n%s.\n\n", describeHook(r.Hook))
	}
	markdownGoals(bw, r)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write Markdown bench report: %w", err)
	}
	return nil
}

func markdownCells(w io.Writer, r *Report) {
	fmt.Fprint(w, "## Throughput, latency and correctness\n\n"+
		"Throughput in messages per second, mean ± 95 % interval over the "+
		"repeats; ratio is the flow's median repeat over the raw floor's. "+
		"Latency of the "+
		"whole job in ms. dup, lost and err are summed over the repeats.\n\n")
	mdRow(w, "strategy", "workers", "msg/s", "floor msg/s", "ratio", "p50", "p95",
		"p99", "cpu µs/msg", "peak RSS", "dup", "lost", "err")
	mdRule(w, 13, 1)
	for _, rw := range r.rows() {
		c := rw.Main
		dup, lost, errs := counts(c.Correctness)
		mdRow(w, rw.Strategy, fmt.Sprint(rw.Workers), throughput(c.Throughput),
			floorThroughput(rw), ratio(rw), latencyAt(c, "total", p50),
			latencyAt(c, "total", p95), latencyAt(c, "total", p99),
			fmt.Sprintf("%.0f", c.CPUPerMessage), megabytes(c.PeakRSS), dup, lost, errs)
	}
	fmt.Fprintln(w)
}

func markdownPhases(w io.Writer, r *Report) {
	fmt.Fprint(w, "## Latency per phase\n\np50 / p99 in ms, flow then floor.\n\n")
	mdRow(w, "strategy", "workers", "claim", "insert", "commit", "dispatch")
	mdRule(w, 6, 1)
	for _, rw := range r.rows() {
		if rw.Main.Kind != KindFlow {
			continue
		}
		cells := []string{rw.Strategy, fmt.Sprint(rw.Workers)}
		for _, s := range Series[1:] {
			cell := percentiles(rw.Main, s)
			if rw.Floor != nil {
				cell += "; " + percentiles(*rw.Floor, s)
			}
			cells = append(cells, cell)
		}
		mdRow(w, cells...)
	}
	fmt.Fprintln(w)
}

func markdownGoals(w io.Writer, r *Report) {
	goals := Goals(r)
	if len(goals) == 0 {
		return
	}
	fmt.Fprint(w, "## Goals\n\nReported, not enforced.\n\n")
	mdRow(w, "goal", "target", "measured", "result", "note")
	mdRule(w, 5, 5)
	for _, g := range goals {
		mdRow(w, g.Name, g.Target, g.Measured, g.Result(), g.Note)
	}
	fmt.Fprintln(w)
}

// mdRow writes one table row, escaping pipes.
func mdRow(w io.Writer, cells ...string) {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

// mdRule writes the header rule of n columns, the first left columns
// aligned left and the rest right.
func mdRule(w io.Writer, n, left int) {
	cols := make([]string, n)
	for i := range cols {
		cols[i] = "---:"
		if i < left {
			cols[i] = "---"
		}
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(cols, "|"))
}
