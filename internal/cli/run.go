package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"golang.org/x/term"

	"github.com/dedupsim/dedupsim/reports"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/containers"
	"github.com/dedupsim/dedupsim/sim/backend/embedded"
	"github.com/dedupsim/dedupsim/sim/backend/external"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

type runOptions struct {
	runs    int
	json    string
	keep    bool
	shipped bool
	backend string
	verbose bool

	postgresURL, redisURL     string
	postgresImage, redisImage string

	html, junit, markdown string
	strategies            strategyList
	replay                string
}

func runFlags(o *runOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.IntVar(&o.runs, "runs", 0, "run each strategy `N` times (default: the scenario's runs)")
	fs.StringVar(&o.json, "json", "", "also write a JSON report to `FILE`")
	fs.StringVar(&o.html, "html", "",
		"also write an HTML report with swimlanes of failing runs to `FILE`")
	fs.StringVar(&o.junit, "junit", "", "also write a JUnit XML report to `FILE`")
	fs.StringVar(&o.markdown, "markdown", "",
		"also write a Markdown report, for a pull-request comment, to `FILE`")
	fs.Var(&o.strategies, "strategy",
		"run only strategy or configuration `NAME` (repeatable, or comma-separated)")
	fs.BoolVar(&o.keep, "keep", false,
		"keep each run's database and print how to open it")
	fs.BoolVar(&o.shipped, "shipped", false, "run every shipped scenario")
	backendFlags(fs, o)
	fs.BoolVar(&o.verbose, "v", false, "log every run, not just each scenario")
	fs.StringVar(&o.replay, "replay", "", "replay the serialized run of `TOKEN` "+
		"(printed under each failing one): its configuration, its exact order of "+
		"steps; the scenario must be the one it came from, or one with the same "+
		"configuration and a serialized schedule")
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
the workers passed their checkpoints, with what each step read or wrote.

-json, -html, -junit and -markdown write the same results as reports: for
machines, for a person with a browser (swimlanes of failing runs), for
CI test views, and for a pull-request comment. Each file is written whole
or not at all, and its folder is checked before anything runs. Every
report of a strategy that did not meet its expectation gives the command
line that replays it, which uses -strategy.

On a terminal, stderr shows a progress bar; elsewhere one line per
strategy as its last run ends.

Backends: embedded runs miniredis and a throwaway Postgres from the local
server binaries. external uses servers you run: each run works in its own
Postgres schema (run_<id>) and Redis key prefix (dedupsim:<id>:) and removes
only those; nothing else is flushed or dropped. containers starts a Postgres
and a Redis container with Docker (the official images, or the stand-ins
"make images" builds where none can be pulled) and removes them when done,
or on Ctrl-C. The default, auto, is external when both URLs are given by
flag or environment, else embedded.`)
	return fs
}

// backendFlags adds the flags that choose the backend and its servers.
func backendFlags(fs *flag.FlagSet, o *runOptions) {
	fs.StringVar(&o.backend, "backend", "auto",
		"where Redis and Postgres come from: `NAME` is embedded, external, "+
			"containers, or auto (external when both URLs are given, else embedded)")
	fs.StringVar(&o.postgresURL, "postgres-url", "",
		"external: the Postgres `URL` runs make their schemas in (default $DATABASE_URL)")
	fs.StringVar(&o.redisURL, "redis-url", "",
		"external: the Redis `URL` runs keep their prefixed keys in (default $REDIS_URL)")
	fs.StringVar(&o.postgresImage, "postgres-image", "", "containers: the Postgres `IMAGE` "+
		"(default $"+containers.PostgresImageEnv+", else "+containers.DefaultPostgresImage+")")
	fs.StringVar(&o.redisImage, "redis-image", "", "containers: the Redis `IMAGE` "+
		"(default $"+containers.RedisImageEnv+", else "+containers.DefaultRedisImage+")")
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o runOptions
	fs := runFlags(&o)
	if err := parse(fs, args, stderr); err != nil {
		return helpOrBad(err)
	}
	if o.runs < 0 || o.runs > scenarios.MaxRuns {
		fmt.Fprintf(stderr, "dedupsim run: -runs must be from 1 to %d (0 means the "+
			"scenario's own), not %d\n", scenarios.MaxRuns, o.runs)
		return ExitBadInput
	}
	name, err := o.backendName()
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim run: %v\n", err)
		return ExitBadInput
	}
	scs, err := load(fs.Args(), o.shipped)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim run: %v\n", err)
		return ExitBadInput
	}
	var ins []input
	for i, arg := range scenarioArgs(fs.Args(), o.shipped) {
		ins = append(ins, inputs(arg, scs[i])...)
	}
	if !strategiesAndReportsOK(scs, ins, o, stderr) {
		return ExitBadInput
	}
	if err := replayFits(scs, o.replay); err != nil {
		fmt.Fprintf(stderr, "dedupsim run: %v\n", err)
		return ExitBadInput
	}

	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	progress := reports.NewProgress(stderr, countRuns(scs, o.runs), isTerminal(stderr))
	log := slog.New(slog.NewTextHandler(progress.Writer(),
		&slog.HandlerOptions{Level: level}))
	b, err := openBackend(ctx, o, name, log)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim run: start backend: %v\n", err)
		return backendExit(ctx, err)
	}
	defer b.Close()

	var results []sim.ScenarioResult
	for _, sc := range scs {
		r, err := sim.RunScenario(ctx, b, sc, sim.Options{Logger: log, Keep: o.keep,
			Runs: o.runs, Progress: progress.Step, Replay: o.replay})
		if err != nil {
			_ = progress.Finish()
			fmt.Fprintf(stderr, "dedupsim run: %v\n", err)
			if errors.Is(err, sim.ErrRefused) {
				return ExitBadInput
			}
			if errors.Is(err, sim.ErrInterrupted) || ctx.Err() != nil {
				return ExitInterrupted
			}
			return ExitFailed
		}
		results = append(results, r)
	}
	_ = progress.Finish()
	describeBackend(stdout, b)
	return report(results, o, stdout, stderr)
}

// replayFits checks a replay token before anything runs: it must read,
// and every scenario must run the configuration it names.
func replayFits(scs []*scenarios.Scenario, token string) error {
	if token == "" {
		return nil
	}
	tok, err := schedule.ParseToken(token)
	if err != nil {
		return fmt.Errorf("-replay: %w", err)
	}
	for _, sc := range scs {
		if !sc.Schedule.Serialized() {
			return fmt.Errorf("-replay: scenario %s has a %s schedule; a token replays "+
				"the steps of a serialized one (script, random, pct, exhaustive)",
				sc.Name, cmp.Or(sc.Schedule.Kind, "free"))
		}
		var names []string
		for _, c := range sc.Configs() {
			names = append(names, c.Name())
		}
		if !slices.Contains(names, tok.Config) {
			return fmt.Errorf("-replay: the token replays configuration %s, which "+
				"scenario %s does not run (it runs %s)", tok.Config, sc.Name,
				strings.Join(names, ", "))
		}
		// Its workers and checkpoints, before any backend starts.
		if err := sim.CheckReplay(sc, token); err != nil {
			return fmt.Errorf("-replay: %w", err)
		}
	}
	return nil
}

func report(results []sim.ScenarioResult, o runOptions, stdout, stderr io.Writer) int {
	if err := reports.Terminal(stdout, results); err != nil {
		fmt.Fprintf(stderr, "dedupsim run: write summary: %v\n", err)
		return ExitFailed
	}
	if o.keep {
		printKept(stdout, results)
	}
	for _, f := range o.reportFiles() {
		if f.path == "" {
			continue
		}
		if err := writeFile(f.path, func(w io.Writer) error {
			return f.write(w, results)
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

// checkWritable fails early for a report path that cannot take a report —
// its folder missing or not writable, or something other than a regular
// file already there — so no run is wasted and nothing is replaced that
// is not a report.
func checkWritable(path string) error {
	if path == "" {
		return nil
	}
	if path == "-" {
		return fmt.Errorf("reports go to files; name one (the summary is on stdout)")
	}
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s exists and is not a regular file", path)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("folder %s does not exist", dir)
	}
	probe, err := os.CreateTemp(dir, ".dedupsim-probe-*")
	if err != nil {
		return fmt.Errorf("folder %s is not writable: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// writeFile writes through a temporary file and renames it into place, so
// a failed write leaves no half report.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".dedupsim-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	// CreateTemp makes the file private; a report is for sharing.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
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

// strategiesAndReportsOK narrows the scenarios to -strategy and checks
// that every report can be written, and would replace none of ins, the
// files the scenarios read, saying on stderr what is wrong.
func strategiesAndReportsOK(scs []*scenarios.Scenario, ins []input, o runOptions,
	stderr io.Writer) bool {
	if err := restrict(scs, o.strategies); err != nil {
		fmt.Fprintf(stderr, "dedupsim run: -strategy: %v\n", err)
		return false
	}
	used := map[string]string{}
	for _, f := range o.reportFiles() {
		if err := checkWritable(f.path); err != nil {
			fmt.Fprintf(stderr, "dedupsim run: -%s: %v\n", f.flag, err)
			return false
		}
		if in, ok := readBy(f.path, ins); ok && f.path != "" {
			fmt.Fprintf(stderr, "dedupsim run: -%s: %s is %s, which the run reads; "+
				"name another file\n", f.flag, f.path, in.what)
			return false
		}
		if other, ok := used[filepath.Clean(f.path)]; ok && f.path != "" {
			fmt.Fprintf(stderr, "dedupsim run: -%s and -%s name the same file %s\n",
				other, f.flag, f.path)
			return false
		}
		used[filepath.Clean(f.path)] = f.flag
	}
	return true
}

// reportFile is a report the run writes when its flag names a file.
type reportFile struct {
	flag  string
	path  string
	write func(io.Writer, []sim.ScenarioResult) error
}

func (o runOptions) reportFiles() []reportFile {
	return []reportFile{
		{"json", o.json, reports.JSON},
		{"html", o.html, reports.HTML},
		{"junit", o.junit, reports.JUnit},
		{"markdown", o.markdown, reports.Markdown},
	}
}

// strategyList collects -strategy: repeated, comma-separated, or both.
type strategyList []string

// String writes the list as -strategy takes it.
func (l *strategyList) String() string { return strings.Join(*l, ",") }

// Set adds the names in v, once each.
func (l *strategyList) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		if name = strings.TrimSpace(name); name != "" && !slices.Contains(*l, name) {
			*l = append(*l, name)
		}
	}
	return nil
}

// restrict keeps only the named strategies of every scenario. A name is
// a strategy, with every configuration of it, or one configuration such as
// "setnx+mutex-plain"; each must name something in every scenario.
func restrict(scs []*scenarios.Scenario, names strategyList) error {
	if len(names) == 0 {
		return nil
	}
	kept := make([][]scenarios.Config, len(scs))
	for i, sc := range scs {
		for _, n := range names {
			before := len(kept[i])
			for _, c := range sc.Configs() {
				if c.Name() == n || c.Strategy == n {
					kept[i] = append(kept[i], c)
				}
			}
			if len(kept[i]) == before {
				return fmt.Errorf("scenario %s has no strategy %q (it has: %s)",
					sc.Name, n, strings.Join(configNames(sc), ", "))
			}
		}
	}
	for i, sc := range scs {
		narrow(sc, kept[i])
	}
	return nil
}

// narrow limits sc to the strategies, mutex releases and dispatches of
// the configurations in keep, in the scenario's own order.
func narrow(sc *scenarios.Scenario, keep []scenarios.Config) {
	has := func(f func(scenarios.Config) bool) bool { return slices.ContainsFunc(keep, f) }
	sc.Strategies = slices.DeleteFunc(slices.Clone(sc.Strategies), func(st string) bool {
		return !has(func(c scenarios.Config) bool { return c.Strategy == st })
	})
	sc.Dispatch = slices.DeleteFunc(slices.Clone(sc.Dispatch), func(d string) bool {
		return !has(func(c scenarios.Config) bool { return c.Dispatch == d })
	})
	if sc.Mutex != nil {
		m := *sc.Mutex
		m.Release = slices.DeleteFunc(slices.Clone(m.Release), func(r string) bool {
			return !has(func(c scenarios.Config) bool {
				return c.Mutex == r || (c.Mutex == "" && r == "none")
			})
		})
		sc.Mutex = &m
	}
}

func configNames(sc *scenarios.Scenario) []string {
	var out []string
	for _, c := range sc.Configs() {
		out = append(out, c.Name())
	}
	return out
}

// countRuns is how many runs the scenarios make, for the progress bar.
func countRuns(scs []*scenarios.Scenario, runs int) int {
	n := 0
	for _, sc := range scs {
		r := sc.Runs
		if runs > 0 {
			r = runs
		}
		n += len(sc.Configs()) * r
	}
	return n
}

// isTerminal says whether w is a terminal, where a progress bar can be
// redrawn in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// backendName resolves -backend: auto is external when both server URLs
// are given, by flag or environment, else embedded. A URL given by flag
// without the other is an error; a lone URL from the environment (a
// DATABASE_URL set for something else) leaves auto embedded.
func (o runOptions) backendName() (string, error) {
	pg, rd := o.urls()
	switch o.backend {
	case "auto":
		if pg != "" && rd != "" {
			return "external", o.checkURLs()
		}
		if o.postgresURL != "" || o.redisURL != "" {
			return "", errors.New("-postgres-url and -redis-url go together " +
				"(or DATABASE_URL and REDIS_URL)")
		}
		return "embedded", nil
	case "external":
		if pg == "" || rd == "" {
			return "", errors.New("-backend external needs -postgres-url and " +
				"-redis-url (or DATABASE_URL and REDIS_URL)")
		}
		return "external", o.checkURLs()
	case "embedded", "containers":
		return o.backend, nil
	}
	return "", fmt.Errorf("unknown backend %q (known: auto, embedded, external, "+
		"containers)", o.backend)
}

// checkURLs parses the external servers' URLs as the backend will, so
// that one that cannot be parsed is bad input, named by its flag (or
// environment variable), before anything starts. Whether the servers
// answer is for the backend to find out.
func (o runOptions) checkURLs() error {
	pg, rd := o.urls()
	pgName, rdName := "-postgres-url", "-redis-url"
	if o.postgresURL == "" {
		pgName = "$DATABASE_URL"
	}
	if o.redisURL == "" {
		rdName = "$REDIS_URL"
	}
	// pgx leaves the password out of its message.
	if _, err := pgxpool.ParseConfig(pg); err != nil {
		return fmt.Errorf("%s: %w", pgName, err)
	}
	if _, err := redis.ParseURL(rd); err != nil {
		// A url.Error quotes the whole URL, password and all: keep only
		// what is wrong with it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		why := strings.TrimSuffix(strings.TrimPrefix(err.Error(), "redis: "), ": ")
		return fmt.Errorf("%s: cannot parse %s: %s", rdName, external.RedactURL(rd), why)
	}
	return nil
}

// urls are the external servers' URLs: the flags, else the environment.
func (o runOptions) urls() (postgres, redis string) {
	return cmp.Or(o.postgresURL, os.Getenv("DATABASE_URL")),
		cmp.Or(o.redisURL, os.Getenv("REDIS_URL"))
}

// openBackend starts the backend called name.
func openBackend(ctx context.Context, o runOptions, name string,
	log *slog.Logger) (backend.Backend, error) {
	switch name {
	case "external":
		pg, rd := o.urls()
		return external.New(ctx, external.Config{PostgresURL: pg, RedisURL: rd,
			Logger: log})
	case "containers":
		return containers.New(ctx, containers.Config{Logger: log,
			PostgresImage: o.postgresImage, RedisImage: o.redisImage})
	}
	return embedded.New(ctx, embedded.Config{Logger: log})
}

// describeBackend prints which servers the run used, for backends that
// can say: the containers' ids and ports, or the servers' URLs.
func describeBackend(w io.Writer, b backend.Backend) {
	if d, ok := b.(interface{ Describe() string }); ok {
		fmt.Fprintf(w, "backend %s: %s\n", b.Name(), d.Describe())
	}
}
