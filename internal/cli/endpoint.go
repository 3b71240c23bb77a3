package cli

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/ingest"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim/backend/containers"
	"github.com/dedupsim/dedupsim/sim/live"
)

// endpointOptions are the flags serve and replay share: where Redis and
// Postgres come from, and how the workers behind the endpoint run.
type endpointOptions struct {
	backend runOptions
	workers int
	strat   string
	inboxes strategyList
	pauseAt string
	pause   time.Duration
	verbose bool
}

// addEndpointFlags registers the shared flags on fs.
func addEndpointFlags(fs *flag.FlagSet, o *endpointOptions) {
	b := &o.backend
	fs.StringVar(&b.backend, "backend", "auto",
		"where Redis and Postgres come from: `NAME` is embedded, external, "+
			"containers, or auto (external when both URLs are given, else embedded)")
	fs.StringVar(&b.postgresURL, "postgres-url", "",
		"external: the Postgres `URL` (default $DATABASE_URL)")
	fs.StringVar(&b.redisURL, "redis-url", "",
		"external: the Redis `URL` (default $REDIS_URL)")
	fs.StringVar(&b.postgresImage, "postgres-image", "", "containers: the Postgres "+
		"`IMAGE` (default $"+containers.PostgresImageEnv+")")
	fs.StringVar(&b.redisImage, "redis-image", "", "containers: the Redis `IMAGE` "+
		"(default $"+containers.RedisImageEnv+")")
	fs.IntVar(&o.workers, "workers", live.DefaultWorkers,
		fmt.Sprintf("how many workers take jobs from the queue, 1 to %d "+
			"(0 means the default, %d)", scenarios.MaxWorkers, live.DefaultWorkers))
	fs.StringVar(&o.strat, "strategy", live.DefaultStrategy,
		"the workers' dedup strategy `NAME`")
	fs.Var(&o.inboxes, "inbox",
		"route phone number `ID` to an inbox (repeatable, or comma-separated)")
	fs.StringVar(&o.pauseAt, "pause-at", "",
		"hold every worker at `CHECKPOINT` for -pause, widening a guard's race "+
			"window (legacy: claim.mark)")
	fs.DurationVar(&o.pause, "pause", 250*time.Millisecond,
		"how long -pause-at holds each worker")
	fs.BoolVar(&o.verbose, "v", false, "log the backend's and the endpoint's steps")
}

// check rejects worker flags the endpoint cannot run with, naming the
// flag.
func (o endpointOptions) check() error {
	if o.workers < 0 || o.workers > scenarios.MaxWorkers {
		return fmt.Errorf("-workers must be from 1 to %d (0 means the default, %d), "+
			"not %d", scenarios.MaxWorkers, live.DefaultWorkers, o.workers)
	}
	if o.strat != "" && !slices.Contains(claim.Names(), o.strat) {
		return fmt.Errorf("-strategy: unknown strategy %q (known: %s)", o.strat,
			strings.Join(claim.Names(), ", "))
	}
	if o.pause < 0 {
		return fmt.Errorf("-pause must not be negative, not %s", o.pause)
	}
	return nil
}

// config turns the options into an endpoint Config, with the defaults
// filled in so that what it says is what runs.
func (o endpointOptions) config(secret, token string) live.Config {
	cfg := live.Config{AppSecret: secret, VerifyToken: token, Inboxes: o.inboxes,
		Strategy: cmp.Or(o.strat, live.DefaultStrategy),
		Workers:  cmp.Or(o.workers, live.DefaultWorkers)}
	if o.pauseAt != "" {
		cfg.Pause = live.Pause{At: checkpoint.Name(o.pauseAt), For: o.pause}
	}
	return cfg
}

// printSummary writes what became of every message part: its jobs, its
// stored rows and its webhooks, then the totals, the ingest counters and
// the verdict.
func printSummary(w io.Writer, s live.Summary) {
	fmt.Fprintf(w, "  %-66s %-6s %-5s %s\n", "message", "jobs", "rows", "webhooks")
	var rows, deliveries, ids int
	for _, t := range s.Judgement.Tallies {
		n, d := t.WebhookIDs[live.SubscriberPath], t.Deliveries[live.SubscriberPath]
		rows, deliveries, ids = rows+t.Messages, deliveries+d, ids+n
		hooks := fmt.Sprint(n)
		if d > n {
			hooks += fmt.Sprintf(" (%d deliveries)", d)
		}
		fmt.Fprintf(w, "  %-66s %-6s %-5d %s\n", t.Part, jobs(s, t.Part.SourceID),
			t.Messages, hooks)
	}
	fmt.Fprintf(w, "  total: %s, %s, %s\n", plural(rows, "message"),
		plural(deliveries, "webhook"), plural(ids, "distinct webhook id"))
	fmt.Fprintf(w, "  ingest: %s\n", ingestLine(s.Ingest))
	for _, f := range s.Failures {
		fmt.Fprintf(w, "  failed: %s\n", f)
	}
	fmt.Fprintf(w, "  verdict: %s\n", s.Judgement.Verdict)
	for _, f := range s.Judgement.Findings {
		fmt.Fprintf(w, "    %s: %s\n", f.Property, f.Detail)
	}
}

// jobs says how many jobs a message had, and how many did not end done.
func jobs(s live.Summary, id string) string {
	byState := s.Jobs[id]
	out := fmt.Sprint(s.JobTotal(id))
	for _, st := range []string{"pending", "dead"} {
		if byState[st] > 0 {
			out += fmt.Sprintf(" (%d %s)", byState[st], st)
		}
	}
	return out
}

// ingestLine writes the handler's counters on one line.
func ingestLine(st ingest.Stats) string {
	refused := "none refused"
	if len(st.Rejected) > 0 {
		var parts []string
		for _, r := range slices.Sorted(maps.Keys(st.Rejected)) {
			parts = append(parts, fmt.Sprintf("%s %d", r, st.Rejected[r]))
		}
		refused = "refused: " + strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%d accepted, %d jobs, %d unroutable, statuses %d applied "+
		"and %d ignored, %s", st.Accepted, st.Jobs, st.Unroutable,
		st.StatusesApplied, st.StatusesIgnored, refused)
}

// parseInterleaved parses fs's flags from args, allowing flags after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	var positional []string
	for {
		if err := parse(fs, args, stderr); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// plural writes n and what it counts, in the plural unless n is 1: an s
// added, or a final y after a consonant made ies.
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if stem, ok := strings.CutSuffix(what, "y"); ok && stem != "" &&
		!strings.ContainsRune("aeiou", rune(stem[len(stem)-1])) {
		return fmt.Sprintf("%d %sies", n, stem)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
