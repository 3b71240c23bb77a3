package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/dedupsim/dedupsim/bench"
	"github.com/dedupsim/dedupsim/sim/backend"
)

type benchOptions struct {
	cfg      bench.Config
	workers  intList
	backend  runOptions // -backend and the servers' URLs and images
	floor    bool
	queue    bool
	hook     bool
	verbose  bool
	baseline string
	minDrop  float64

	json, markdown, html string
	strategies           strategyList
}

func benchFlags(o *benchOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Var(&o.strategies, "strategy",
		"measure only strategy `NAME` (repeatable, or comma-separated; default all)")
	fs.Var(&o.workers, "workers", "worker counts `N,N,...` (default 1,2,8,32,64)")
	fs.IntVar(&o.cfg.Deliveries, "deliveries", bench.DefaultDeliveries,
		"deliveries per run, copies included: `N`")
	fs.DurationVar(&o.cfg.Duration, "duration", 0,
		"stop feeding a run's messages after `D`, even with deliveries left")
	fs.Float64Var(&o.cfg.DuplicateRate, "dup-rate", bench.DefaultDuplicateRate,
		"share of deliveries that copy another message, 0 to 0.5")
	fs.DurationVar(&o.cfg.MaxGap, "dup-gap", bench.DefaultMaxGap,
		"a copy arrives 0 to `D` after its original")
	fs.IntVar(&o.cfg.Repeats, "repeats", bench.DefaultRepeats,
		"run each cell `K` times; the spread is the noise -baseline allows for")
	fs.IntVar(&o.cfg.Senders, "senders", bench.DefaultSenders, "contacts sending: `N`")
	fs.Uint64Var(&o.cfg.Seed, "seed", 1, "seed of the workload: `N`")
	fs.BoolVar(&o.floor, "floor", true, "also measure the raw floor, for the ratios")
	fs.BoolVar(&o.queue, "queue", true, "also measure the durable queue alone")
	fs.BoolVar(&o.hook, "hook", true, "also measure the checkpoint hook's cost")
	fs.StringVar(&o.json, "json", "", "also write a JSON report to `FILE`")
	fs.StringVar(&o.markdown, "markdown", "", "also write a Markdown report to `FILE`")
	fs.StringVar(&o.html, "html", "", "also write an HTML report with plots to `FILE`")
	fs.StringVar(&o.baseline, "baseline", "",
		"compare with the JSON report in `FILE`; exit 1 on a regression")
	fs.Float64Var(&o.minDrop, "min-drop", bench.DefaultMinDrop,
		"the smallest drop of throughput, as a share, that is a regression")
	backendFlags(fs, &o.backend)
	fs.BoolVar(&o.verbose, "v", false, "log each cell and the backend's records")
	fs.Usage = usage(fs, "dedupsim bench [flags]", benchHelp)
	return fs
}

const benchHelp = `
Measures what each dedup strategy costs and what it guarantees. For every
strategy and worker count it drives the reference flow's workers with jobs
from an in-memory channel (the durable queue's own cost is a row of its own),
a share of the messages delivered twice, the copy a random 0 to -dup-gap
after the original. It reports throughput, the latency of the whole job and
of each phase (claim, insert, commit, dispatch) at p50, p95 and p99 from HDR
histograms, this process's CPU time per message and peak resident memory
(servers in other processes excluded), and, from the database afterwards,
the duplicated rows and the lost messages.

In the same run and at the same concurrency, the raw floor issues each
strategy's Redis commands, SQL statements and webhook POSTs directly through
the clients, with no flow around them; a strategy's ratio is its throughput
over its floor's. The checkpoint hook's cost is measured last.

Each cell runs -repeats times on a fresh database. -baseline compares the
mean throughput of every flow and queue cell with an earlier -json report: a
drop beyond the noise both reports' repeats show (a 99 % interval) and
beyond -min-drop is a regression, named on stdout, and the exit code is 1.

Exit codes: 0 done, no regression; 1 a regression; 2 bad flags or no usable
backend; 3 the benchmark failed; 130 interrupted.`

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o benchOptions
	fs := benchFlags(&o)
	if err := parse(fs, args, stderr); err != nil {
		return helpOrBad(err)
	}
	name, old, err := o.check(fs)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim bench: %v\n", err)
		return ExitBadInput
	}
	log := benchLogger(stderr, o.verbose)
	b, err := openBackend(ctx, o.backend, name, log)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim bench: start backend: %v\n", err)
		return backendExit(ctx, err)
	}
	defer b.Close()

	o.cfg.Logger = log
	o.cfg.Progress = func(p bench.Progress) { progressLine(stderr, p) }
	rep, err := bench.Run(ctx, b, o.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim bench: %v\n", err)
		if ctx.Err() != nil {
			return ExitInterrupted
		}
		return ExitFailed
	}
	describeBackend(stdout, b)
	return o.report(rep, old, stdout, stderr)
}

// check resolves the configuration, the backend and the baseline, and
// checks that every report can be written, before anything starts.
func (o *benchOptions) check(fs *flag.FlagSet) (string, *bench.Report, error) {
	if fs.NArg() > 0 {
		return "", nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.cfg.Strategies = o.strategies
	o.cfg.Workers = o.workers
	o.cfg.SkipFloor, o.cfg.SkipQueue, o.cfg.SkipHook = !o.floor, !o.queue, !o.hook
	if o.cfg.DuplicateRate < 0 || o.cfg.DuplicateRate > 0.5 {
		return "", nil, fmt.Errorf("-dup-rate %g: want 0 to 0.5", o.cfg.DuplicateRate)
	}
	if o.cfg.DuplicateRate == 0 {
		o.cfg.DuplicateRate = -1 // the flag's 0 means none, not the default
	}
	if err := o.cfg.Validate(); err != nil {
		return "", nil, err
	}
	if o.minDrop < 0 || o.minDrop >= 1 {
		return "", nil, fmt.Errorf("-min-drop %g: want 0 to 1", o.minDrop)
	}
	for _, f := range []struct{ flag, path string }{{"json", o.json},
		{"markdown", o.markdown}, {"html", o.html}} {
		if err := checkWritable(f.path); err != nil {
			return "", nil, fmt.Errorf("-%s: %w", f.flag, err)
		}
	}
	old, err := readBaseline(o.baseline)
	if err != nil {
		return "", nil, err
	}
	name, err := o.backend.backendName()
	return name, old, err
}

func readBaseline(path string) (*bench.Report, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-baseline: %w", err)
	}
	defer f.Close()
	r, err := bench.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("-baseline %s: %w", path, err)
	}
	return r, nil
}

// report prints the tables, writes the files and holds the report to the
// baseline.
func (o *benchOptions) report(rep *bench.Report, old *bench.Report,
	stdout, stderr io.Writer) int {
	if err := bench.Terminal(stdout, rep); err != nil {
		fmt.Fprintf(stderr, "dedupsim bench: %v\n", err)
		return ExitFailed
	}
	files := []struct {
		path  string
		write func(io.Writer, *bench.Report) error
	}{{o.json, bench.JSON}, {o.markdown, bench.Markdown}, {o.html, bench.HTML}}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if err := writeFile(f.path, func(w io.Writer) error {
			return f.write(w, rep)
		}); err != nil {
			fmt.Fprintf(stderr, "dedupsim bench: %v\n", err)
			return ExitFailed
		}
	}
	if old == nil {
		return ExitOK
	}
	return compareBaseline(old, rep, o.minDrop, stdout, stderr)
}

func compareBaseline(old, rep *bench.Report, minDrop float64,
	stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "\ncompared with the baseline of %s (%s backend)\n",
		old.Started.UTC().Format("2006-01-02 15:04 UTC"), old.Backend)
	if old.Backend != rep.Backend {
		fmt.Fprintf(stdout, "note: the baseline ran on the %s backend, this on %s\n",
			old.Backend, rep.Backend)
	}
	cs := bench.Compare(old, rep, minDrop)
	if err := bench.WriteComparison(stdout, cs); err != nil {
		fmt.Fprintf(stderr, "dedupsim bench: %v\n", err)
		return ExitFailed
	}
	if len(bench.Regressions(cs)) > 0 {
		return ExitNotHeld
	}
	fmt.Fprintln(stdout, "no regression beyond the noise")
	return ExitOK
}

// backendExit maps a backend that did not start to an exit code.
func backendExit(ctx context.Context, err error) int {
	switch {
	case ctx.Err() != nil:
		return ExitInterrupted
	case errors.Is(err, backend.ErrUnavailable):
		return ExitBadInput
	}
	return ExitFailed
}

func benchLogger(stderr io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// progressLine writes one line per finished cell run.
func progressLine(w io.Writer, p bench.Progress) {
	if p.Throughput == 0 {
		fmt.Fprintf(w, "bench: %d/%d %s\n", p.Done, p.Total, p.Cell)
		return
	}
	fmt.Fprintf(w, "bench: %d/%d %s: %.0f msg/s\n", p.Done, p.Total, p.Cell,
		p.Throughput)
}

// intList collects comma-separated positive integers.
type intList []int

// String writes the list as the flag takes it.
func (l *intList) String() string {
	var s []string
	for _, n := range *l {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ",")
}

// Set replaces the list with the numbers in v.
func (l *intList) Set(v string) error {
	*l = nil
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive whole number", f)
		}
		*l = append(*l, n)
	}
	return nil
}
