package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/dedupsim/dedupsim/reports"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
)

type shrinkOptions struct {
	runOptions
	config     string
	properties strategyList
	out        string
}

func shrinkFlags(o *shrinkOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("shrink", flag.ContinueOnError)
	fs.StringVar(&o.config, "strategy", "", "shrink the runs of strategy or configuration "+
		"`NAME` (needed when the scenario runs more than one)")
	fs.Var(&o.properties, "property", "the property `P` that must still break "+
		"(repeatable, or comma-separated; default: every one the scenario breaks "+
		"that its expectation does not ignore)")
	fs.IntVar(&o.runs, "runs", 0, "run each candidate `N` times (default: the scenario's runs)")
	fs.StringVar(&o.out, "out", "", "write the shrunk scenario to `FILE` "+
		"(default: <scenario>-shrunk.yaml in the current folder)")
	backendFlags(fs, &o.runOptions)
	fs.BoolVar(&o.verbose, "v", false, "log every run")
	fs.Usage = usage(fs, "dedupsim shrink [flags] SCENARIO", `
Reduces a failing scenario to a smaller one that still fails the same way:
fewer workers, fewer deliveries, fewer copies of each, fewer faults, and
for a serialized schedule (script, random, pct, exhaustive) fewer fixed
steps. Each candidate is a real run on the backend; stderr shows each one
and whether it still fails.

"Still fails" means: under a serialized schedule, one of the candidate's
runs breaks the properties (that run's replay token reproduces it); under a
free or barrier schedule, which has no token, every one of its runs does.

The search keeps the first smaller candidate that fails, smallest first,
and starts over from it until no single change fails, so the result is
minimal one change at a time. The shrunk scenario is written as one file
that stands alone (payloads inline, defaults spelled out), runs only the
shrunk configuration, and runs with "dedupsim run FILE". For a
serialized schedule the summary also gives the replay command of the
shortest prefix of fixed steps that still fails.

The properties that must still break are -property, else those the
scenario's expectation for the configuration says break, else every one
the original breaks that its expectation does not ignore. The file keeps
them as its expectation, for every run; for a serialized schedule, where
only one run of several need fail, its runs are shown but not gated
(observe), and the replay command reproduces the failing one. A scenario
whose failure depends on timing may shrink differently from one try to
the next. -out is replaced if it exists, but never by the scenario being
shrunk.

Exit codes: 0 shrunk; 1 the scenario does not fail, nothing to shrink;
2 bad input, nothing ran; 3 the simulator failed mid-run.

Example:
  dedupsim shrink -strategy legacy -out min.yaml my-burst.yaml`)
	return fs
}

func shrinkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o shrinkOptions
	fs := shrinkFlags(&o)
	if err := parse(fs, args, stderr); err != nil {
		return helpOrBad(err)
	}
	bad := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "dedupsim shrink: "+format+"\n", args...)
		return ExitBadInput
	}
	if fs.NArg() != 1 {
		return bad("name one scenario file or shipped scenario, not %d arguments", fs.NArg())
	}
	if o.runs < 0 || o.runs > scenarios.MaxRuns {
		return bad("-runs must be from 1 to %d (0 means the scenario's own), not %d",
			scenarios.MaxRuns, o.runs)
	}
	var props []check.Property
	for _, p := range o.properties {
		if !check.Known(check.Property(p)) {
			return bad("-property: unknown property %q (known: %s)", p, knownProperties())
		}
		props = append(props, check.Property(p))
	}
	name, err := o.backendName()
	if err != nil {
		return bad("%v", err)
	}
	sc, err := loadOne(fs.Arg(0))
	if err != nil {
		return bad("%v", err)
	}
	if _, err := sim.ShrinkConfig(sc, o.config); err != nil {
		return bad("%v", err)
	}
	if o.out == "" {
		// Named after the file (or the shipped scenario), in this folder.
		base := strings.TrimSuffix(filepath.Base(fs.Arg(0)), filepath.Ext(fs.Arg(0)))
		o.out = base + "-shrunk.yaml"
	}
	if o.out == "-" {
		return bad("-out: the shrunk scenario goes to a file; name one (the summary is on stdout)")
	}
	if err := checkWritable(o.out); err != nil {
		return bad("-out: %v", err)
	}
	if in, ok := readBy(o.out, inputs(fs.Arg(0), sc)); ok {
		if in.path == fs.Arg(0) {
			return bad("-out: %s is the scenario being shrunk; name another file", o.out)
		}
		return bad("-out: %s is %s, which the shrink reads; name another file",
			o.out, in.what)
	}

	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	b, err := openBackend(ctx, o.runOptions, name, log)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim shrink: start backend: %v\n", err)
		return backendExit(ctx, err)
	}
	defer b.Close()

	whole := sc.Whole()
	fmt.Fprintf(stderr, "shrink: %s as given (%s)\n", sc.Name, describe(whole))
	res, err := sim.ShrinkScenario(ctx, b, sc, sim.ShrinkSpec{Config: o.config,
		Properties: props, Progress: func(step string, fails bool) {
			verdict := "passes"
			if fails {
				verdict = "still fails: kept"
			}
			fmt.Fprintf(stderr, "shrink: %s: %s\n", step, verdict)
		}}, sim.Options{Logger: log, Runs: o.runs})
	switch {
	case errors.Is(err, sim.ErrNoFailure):
		fmt.Fprintf(stdout, "%s does not fail: nothing to shrink (%v)\n", sc.Name, err)
		return ExitNotHeld
	case err != nil:
		fmt.Fprintf(stderr, "dedupsim shrink: %v\n", err)
		if errors.Is(err, sim.ErrInterrupted) || ctx.Err() != nil {
			return ExitInterrupted
		}
		return ExitFailed
	}
	if err := writeFile(o.out, func(w io.Writer) error {
		data, err := res.Scenario.Marshal()
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}); err != nil {
		fmt.Fprintf(stderr, "dedupsim shrink: %v\n", err)
		return ExitFailed
	}
	printShrunk(stdout, sc.Name, o.out, res)
	return ExitOK
}

// printShrunk is the summary of a shrink.
func printShrunk(w io.Writer, name, out string, res sim.ScenarioShrink) {
	arg := reports.ShellQuote(reports.PathArg(out))
	var broken []string
	for _, p := range res.Broken {
		broken = append(broken, string(p))
	}
	fmt.Fprintf(w, "%s under %s breaks %s\n", name, res.Config.Name(),
		strings.Join(broken, ", "))
	fmt.Fprintf(w, "  as given: %s\n", describe(res.From))
	fmt.Fprintf(w, "  shrunk:   %s\n", describe(res.Reduction))
	if len(res.Steps) == 0 {
		fmt.Fprintln(w, "  no smaller scenario fails the same way")
	}
	for _, s := range res.Steps {
		fmt.Fprintf(w, "  - %s\n", s)
	}
	if s := res.Schedule; s != nil {
		fmt.Fprintf(w, "  schedule: %d of its %d steps fixed still fail\n", s.Steps, s.Of)
		fmt.Fprintf(w, "  replay: dedupsim run --replay %s %s\n", s.Token, arg)
	}
	fmt.Fprintf(w, "%d runs; wrote %s: dedupsim run %s\n", res.Runs, out, arg)
}

// describe says what a reduction keeps, in words.
func describe(r scenarios.Reduction) string {
	return fmt.Sprintf("%s, %s of %s, %s", plural(r.Workers, "worker"),
		plural(r.Deliveries(), "delivery"), plural(r.Arrivals(), "copy"),
		plural(r.FaultsKept(), "fault"))
}

func knownProperties() string {
	var names []string
	for _, p := range check.All {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}
