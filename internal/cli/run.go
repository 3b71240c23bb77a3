package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dedupsim/dedupsim/reports"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/embedded"
)

type runOptions struct {
	runs    int
	json    string
	keep    bool
	shipped bool
	backend string
	verbose bool
}

func runFlags(o *runOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.IntVar(&o.runs, "runs", 0, "run each strategy `N` times (default: the scenario's runs)")
	fs.StringVar(&o.json, "json", "", "also write a JSON report to `FILE`")
	fs.BoolVar(&o.keep, "keep", false,
		"keep each run's database and print how to open it")
	fs.BoolVar(&o.shipped, "shipped", false, "run every shipped scenario")
	fs.StringVar(&o.backend, "backend", "embedded",
		"where Redis and Postgres come from: embedded (miniredis and a "+
			"throwaway Postgres)")
	fs.BoolVar(&o.verbose, "v", false, "log every run, not just each scenario")
	fs.Usage = usage(fs, "dedupsim run [flags] SCENARIO...", `
Runs each scenario (a file, or a shipped scenario by name) once per strategy
and run, on a fresh database and Redis key space each time, and checks every
provider message part: at most one stored message, at least one, and one
distinct webhook id per subscriber, plus one open conversation per contact.
Each strategy is held to the scenario's expectation for it; a reproduction
expects the bug to appear.

The summary shows per strategy the verdicts of its runs, the stored messages
and distinct webhook ids per message part (a range when runs differ), and
whether the expectation held; for the first failing run, the order in which
the workers passed their checkpoints, with what each step read or wrote.`)
	return fs
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o runOptions
	fs := runFlags(&o)
	if err := parse(fs, args, stderr); err != nil {
		return helpOrBad(err)
	}
	if o.runs < 0 {
		fmt.Fprintf(stderr, "dedupsim run: -runs must be positive, not %d\n", o.runs)
		return ExitBadInput
	}
	if o.backend != "embedded" {
		fmt.Fprintf(stderr, "dedupsim run: unknown backend %q (known: embedded)\n", o.backend)
		return ExitBadInput
	}
	scs, err := load(fs.Args(), o.shipped)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim run: %v\n", err)
		return ExitBadInput
	}
	if err := checkWritable(o.json); err != nil {
		fmt.Fprintf(stderr, "dedupsim run: -json: %v\n", err)
		return ExitBadInput
	}

	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	b, err := embedded.New(ctx, embedded.Config{Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim run: start backend: %v\n", err)
		if errors.Is(err, backend.ErrUnavailable) {
			return ExitBadInput
		}
		return ExitFailed
	}
	defer b.Close()

	var results []sim.ScenarioResult
	for _, sc := range scs {
		r, err := sim.RunScenario(ctx, b, sc, sim.Options{Logger: log, Keep: o.keep,
			Runs: o.runs})
		if err != nil {
			fmt.Fprintf(stderr, "dedupsim run: %v\n", err)
			if errors.Is(err, sim.ErrInterrupted) || ctx.Err() != nil {
				return ExitInterrupted
			}
			return ExitFailed
		}
		results = append(results, r)
	}
	return report(results, o, stdout, stderr)
}

func report(results []sim.ScenarioResult, o runOptions, stdout, stderr io.Writer) int {
	if err := reports.Terminal(stdout, results); err != nil {
		fmt.Fprintf(stderr, "dedupsim run: write summary: %v\n", err)
		return ExitFailed
	}
	if o.keep {
		printKept(stdout, results)
	}
	if o.json != "" {
		if err := writeFile(o.json, func(w io.Writer) error {
			return reports.JSON(w, results)
		}); err != nil {
			fmt.Fprintf(stderr, "dedupsim run: %v\n", err)
			return ExitFailed
		}
	}
	for _, r := range results {
		if !r.Held {
			return ExitNotHeld
		}
	}
	return ExitOK
}

func printKept(w io.Writer, results []sim.ScenarioResult) {
	fmt.Fprintln(w, "\nkept data:")
	for _, r := range results {
		for _, sr := range r.Strategies {
			for _, t := range sr.Trials {
				fmt.Fprintf(w, "  %s %s run %d:\n    %s\n", r.Scenario, sr.Strategy,
					t.Run, t.KeepHint)
			}
		}
	}
}

// checkWritable fails early for a report path whose folder does not exist,
// so no run is wasted on a report that cannot be written.
func checkWritable(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("folder %s does not exist", dir)
	}
	return nil
}

// writeFile writes through a temporary file and renames it into place, so
// a failed write leaves no half report.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".dedupsim-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
