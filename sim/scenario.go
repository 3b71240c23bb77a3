package sim

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/history"
)

// StrategyResult is every run of one strategy of a scenario, held against
// the scenario's expectation.
type StrategyResult struct {
	// Strategy names the configuration, such as "setnx+mutex-plain".
	Strategy    string                `json:"strategy"`
	Config      scenarios.Config      `json:"config"`
	Expectation scenarios.Expectation `json:"expectation"`
	// Trials are the runs, in order.
	Trials []Trial `json:"trials"`
	// Held says every run met the expectation.
	Held bool `json:"held"`
	// Mismatches say how runs missed the expectation.
	Mismatches []string `json:"mismatches,omitempty"`
	// Coverage sums up a serialized schedule's runs; nil for the others.
	Coverage *Coverage `json:"coverage,omitempty"`
}

// ScenarioResult is one scenario's outcome on one backend.
type ScenarioResult struct {
	Scenario    string           `json:"scenario"`
	Path        string           `json:"path"`
	Description string           `json:"description,omitempty"`
	Backend     string           `json:"backend"`
	Workers     int              `json:"workers"`
	Strategies  []StrategyResult `json:"strategies"`
	// Held says every strategy met its expectation.
	Held     bool          `json:"held"`
	Duration time.Duration `json:"duration_ns"`
}

// RunScenario runs every strategy of sc its number of runs and holds each
// run against the strategy's expectation.
func RunScenario(ctx context.Context, b backend.Backend, sc *scenarios.Scenario,
	opts Options) (ScenarioResult, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	runs := sc.Runs
	if opts.Runs > 0 {
		runs = opts.Runs
	}
	started := time.Now()
	res := ScenarioResult{Scenario: sc.Name, Path: sc.Path, Description: sc.Description,
		Backend: b.Name(), Workers: sc.Workers, Held: true}
	if opts.Replay != "" {
		if err := CheckReplay(sc, opts.Replay); err != nil {
			return res, err
		}
	}
	for _, cfg := range sc.Configs() {
		sched, err := newRunner(sc, cfg, runs, opts)
		if err != nil {
			return res, err
		}
		if sched == nil {
			continue // a replay runs its own configuration only
		}
		st := cfg.Name()
		sr := StrategyResult{Strategy: st, Config: cfg,
			Expectation: sc.ExpectationFor(cfg), Held: true}
		for n := 1; sched.more(n); n++ {
			t, err := RunTrial(ctx, b, sc, cfg, n, sched.options(opts, n))
			if err != nil {
				return res, fmt.Errorf("scenario %s, configuration %s, run %d: %w",
					sc.Name, st, n, err)
			}
			sched.done(&t)
			miss := Mismatches(sr.Expectation, t)
			sr.Mismatches = append(sr.Mismatches, miss...)
			sr.Held = sr.Held && len(miss) == 0
			sr.Trials = append(sr.Trials, t)
			log.Debug("run done", "scenario", sc.Name, "strategy", st, "run", n,
				"verdict", t.Judgement.Verdict, "held", len(miss) == 0)
			if opts.Progress != nil {
				opts.Progress(sc.Name, st, n, runs)
			}
		}
		sr.Coverage = sched.coverage(sr.Trials)
		res.Held = res.Held && sr.Held
		res.Strategies = append(res.Strategies, sr)
	}
	res.Duration = time.Since(started)
	log.Info("scenario done", "scenario", sc.Name, "backend", b.Name(),
		"held", res.Held, "duration", res.Duration.Round(time.Millisecond))
	return res, nil
}

// Mismatches says, one line each, how trial t misses expectation e: which
// message part, which property, and what the run saw. None means t meets e.
func Mismatches(e scenarios.Expectation, t Trial) []string {
	j := t.Judgement
	prefix := fmt.Sprintf("run %d: ", t.Run)
	// A run that did not finish meets no expectation, observed or not.
	if j.Verdict == check.Unknown {
		return []string{prefix + unknownWhy(t)}
	}
	if e.Observe {
		return nil
	}
	var out []string
	for _, tl := range j.Tallies {
		if e.Messages != nil && tl.Messages != *e.Messages {
			out = append(out, prefix+fmt.Sprintf("%s: messages stored: expected %d, saw %d",
				tl.Part, *e.Messages, tl.Messages))
		}
		if e.Webhooks == nil {
			continue
		}
		for sub, n := range webhookCounts(tl, t) {
			if n != *e.Webhooks {
				out = append(out, prefix+fmt.Sprintf(
					"%s: distinct webhook ids at %s: expected %d, saw %d",
					tl.Part, sub, *e.Webhooks, n))
			}
		}
	}
	if len(e.Outcomes) > 0 {
		for id, got := range t.Outcomes {
			if !slices.Equal(got, e.Outcomes) {
				out = append(out, prefix+fmt.Sprintf("%s: expected jobs to end %v, saw %v",
					id, e.Outcomes, got))
			}
		}
	}
	return append(out, propertyMismatches(e, j, prefix)...)
}

// outcomes lists, per message id, what became of each of its jobs, in
// order, from the workers' notes in the history.
func outcomes(events []history.Event) map[string][]string {
	out := map[string][]string{}
	for _, e := range events {
		if e.Phase != history.Note || e.Job == "" || e.Checkpoint != "" {
			continue
		}
		word, _, _ := strings.Cut(e.Result, ";")
		out[e.Job] = append(out[e.Job], word)
	}
	return out
}

// webhookCounts gives the distinct webhook ids per subscriber of a tally,
// with zero for subscribers that got nothing.
func webhookCounts(tl check.Tally, t Trial) map[string]int {
	out := map[string]int{}
	for sub, n := range tl.WebhookIDs {
		out[sub] = n
	}
	for _, sub := range t.Subscribers {
		if _, ok := out[sub]; !ok {
			out[sub] = 0
		}
	}
	return out
}

// propertyMismatches compares the broken properties with the expected
// ones, leaving ignored properties out.
func propertyMismatches(e scenarios.Expectation, j check.Judgement, prefix string) []string {
	var out []string
	for _, p := range e.Broken {
		if !slices.Contains(j.Broken, check.Property(p)) {
			out = append(out, prefix+fmt.Sprintf("expected property %s to break; it held", p))
		}
	}
	for _, f := range j.Findings {
		p := string(f.Property)
		if slices.Contains(e.Broken, p) || slices.Contains(e.Ignore, p) {
			continue
		}
		out = append(out, prefix+fmt.Sprintf("property %s broke: %s", p, f.Detail))
	}
	return out
}
