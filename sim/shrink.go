package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// ErrNoFailure is returned by ShrinkSchedule for a token whose run does
// not fail, and by ShrinkScenario for a scenario that does not fail.
var ErrNoFailure = errors.New("does not fail")

// Shrunk is the smallest schedule ShrinkSchedule found.
type Shrunk struct {
	// Token replays it: its steps are a prefix of the failing run's, and
	// past them the lowest-numbered waiting worker goes first.
	Token string
	// Steps is how many steps it fixes, of Of in the failing run.
	Steps, Of int
	// Broken lists the properties it still breaks.
	Broken []check.Property
	// Runs counts the runs the search took.
	Runs int
}

// ShrinkSchedule reduces the schedule of a failing serialized run, given
// by its replay token, to the shortest prefix of its steps, one step at
// least, that still breaks every property the run broke.
func ShrinkSchedule(ctx context.Context, b backend.Backend, sc *scenarios.Scenario,
	token string, opts Options) (Shrunk, error) {
	tok, err := schedule.ParseToken(token)
	if err != nil {
		return Shrunk{}, err
	}
	full, err := replayOnce(ctx, b, sc, tok, opts)
	if err != nil {
		return Shrunk{}, err
	}
	if full.Judgement.Verdict != check.Fail {
		return Shrunk{}, fmt.Errorf("%w: verdict %s", ErrNoFailure, full.Judgement.Verdict)
	}
	out := Shrunk{Of: len(tok.Steps), Runs: 1}
	// A token fixes one step at least: one with none is refused.
	for n := 1; n <= len(tok.Steps); n++ {
		try := schedule.Token{Config: tok.Config, Scheduler: "shrunk from " + tok.Scheduler,
			Steps: tok.Steps[:n]}
		t, err := replayOnce(ctx, b, sc, try, opts)
		if err != nil {
			return out, err
		}
		out.Runs++
		if breaksAll(t, full.Judgement.Broken) {
			out.Token, out.Steps, out.Broken = try.Encode(), n, t.Judgement.Broken
			return out, nil
		}
	}
	return out, fmt.Errorf("%w: no prefix of the schedule fails again", ErrNoFailure)
}

// replayOnce runs tok's configuration of sc once, following tok.
func replayOnce(ctx context.Context, b backend.Backend, sc *scenarios.Scenario,
	tok schedule.Token, opts Options) (Trial, error) {
	opts.Replay, opts.Runs = tok.Encode(), 1
	res, err := RunScenario(ctx, b, sc, opts)
	if err != nil {
		return Trial{}, err
	}
	if len(res.Strategies) != 1 || len(res.Strategies[0].Trials) != 1 {
		return Trial{}, fmt.Errorf("%w: scenario %s has no configuration %s",
			schedule.ErrToken, sc.Name, tok.Config)
	}
	return res.Strategies[0].Trials[0], nil
}

func breaksAll(t Trial, broken []check.Property) bool {
	if t.Judgement.Verdict != check.Fail {
		return false
	}
	for _, p := range broken {
		if !slices.Contains(t.Judgement.Broken, p) {
			return false
		}
	}
	return true
}

// ScenarioShrink is the smallest scenario ShrinkScenario found.
type ScenarioShrink struct {
	// Config is the configuration shrunk.
	Config scenarios.Config
	// Scenario runs only Config and keeps what Reduction keeps of the
	// original, which From describes.
	Scenario        *scenarios.Scenario
	Reduction, From scenarios.Reduction
	// Broken lists the properties the original broke; the shrunk scenario
	// still breaks every one of them.
	Broken []check.Property
	// Replay is, for a serialized schedule, the token of the shrunk
	// scenario's failing run, and Schedule that run's steps shrunk.
	Replay   string
	Schedule *Shrunk
	// Steps lists the reductions kept, in order, such as "workers 4 → 2".
	Steps []string
	// Runs counts the runs the search took.
	Runs int

	longest time.Duration // the original's longest run
}

// ShrinkSpec says what to shrink.
type ShrinkSpec struct {
	// Config names the configuration; empty for a scenario's only one.
	Config string
	// Properties must still break in the shrunk scenario. Default: every
	// property the original broke, less those its expectation ignores.
	Properties []check.Property
	// Progress, when set, is told each candidate and whether it failed.
	Progress func(step string, fails bool)
}

// ShrinkScenario reduces sc, run under configuration config, to a smaller
// scenario that still fails the same way: fewer workers, fewer copies of
// each delivery, fewer deliveries and fewer faults, and for a serialized
// schedule then fewer fixed steps (ShrinkSchedule).
//
// Each candidate runs the scenario's number of runs (opts.Runs overrides
// it). Under a serialized schedule a candidate fails when one of its runs
// breaks the properties (spec.Properties, else those the original's first
// failing run broke): that run's token replays it exactly. Under a free or
// barrier schedule there is no token, so every run must break them (else
// those every run of the original broke). Properties the scenario's
// expectation ignores for the configuration are left out of the default.
// A reduction is kept as soon as it fails; the search tries
// the smallest reductions first and repeats until none is kept, so that
// what it returns is minimal one change at a time.
//
// The search is greedy and deterministic rather than randomized: it
// starts from a failing scenario, which a generator-driven shrinker
// cannot be handed, and every candidate costs real runs.
func ShrinkScenario(ctx context.Context, b backend.Backend, sc *scenarios.Scenario,
	spec ShrinkSpec, opts Options) (ScenarioShrink, error) {
	cfg, err := ShrinkConfig(sc, spec.Config)
	if err != nil {
		return ScenarioShrink{}, err
	}
	base, err := sc.Variant(cfg)
	if err != nil {
		return ScenarioShrink{}, err
	}
	base.Name = sc.Name + "-shrunk"
	if sc.Mutex == nil && cfg.Mutex == "" {
		base.Mutex = nil // no job mutex, as the scenario had none
	}
	out := ScenarioShrink{Config: cfg, From: base.Whole()}
	serial := base.Schedule.Serialized()
	opts.Replay = ""
	progress := spec.Progress
	exp := sc.ExpectationFor(cfg)
	want := spec.Properties
	if len(want) == 0 {
		for _, p := range exp.Broken {
			want = append(want, check.Property(p))
		}
	}
	var failed, ran int // the original's runs that failed, of those run

	// try runs reduction r and returns the scenario, the failing run
	// (serialized) and whether it fails against want.
	try := func(r scenarios.Reduction, want []check.Property) (*scenarios.Scenario,
		*Trial, []check.Property, bool, error) {
		v, err := base.Reduce(r)
		if err != nil {
			return nil, nil, nil, false, err
		}
		res, err := RunScenario(ctx, b, v, opts)
		if err != nil {
			return nil, nil, nil, false, err
		}
		trials := res.Strategies[0].Trials
		out.Runs += len(trials)
		for _, t := range trials {
			out.longest = max(out.longest, t.Duration)
		}
		if serial {
			for i := range trials {
				t := &trials[i]
				if t.Judgement.Verdict == check.Fail && (want == nil || breaksAll(*t, want)) {
					return v, t, t.Judgement.Broken, true, nil
				}
			}
			return v, nil, nil, false, nil
		}
		var common []check.Property
		ran, failed = len(trials), 0
		for _, t := range trials {
			if t.Judgement.Verdict == check.Fail && (want == nil || breaksAll(t, want)) {
				failed++
			}
		}
		for i, t := range trials {
			if t.Judgement.Verdict != check.Fail || (want != nil && !breaksAll(t, want)) {
				return v, nil, nil, false, nil
			}
			if i == 0 {
				common = slices.Clone(t.Judgement.Broken)
			}
			common = slices.DeleteFunc(common, func(p check.Property) bool {
				return !slices.Contains(t.Judgement.Broken, p)
			})
		}
		return v, nil, common, len(trials) > 0, nil
	}

	cur := out.From.Clone()
	v, failing, broken, fails, err := try(cur, want)
	if err != nil {
		return out, err
	}
	if !fails {
		what := fmt.Sprintf("%s under %s", sc.Name, cfg.Name())
		if len(want) > 0 {
			what += fmt.Sprintf(" breaking %v", want)
		}
		if !serial && failed > 0 {
			return out, fmt.Errorf("%w in every run: %s fails in %d of %d; without a "+
				"replay token every run of a free or barrier schedule must fail",
				ErrNoFailure, what, failed, ran)
		}
		return out, fmt.Errorf("%s %w", what, ErrNoFailure)
	}
	out.Broken = want
	if len(out.Broken) == 0 {
		out.Broken = slices.DeleteFunc(broken, func(p check.Property) bool {
			return slices.Contains(exp.Ignore, string(p))
		})
	}
	if len(out.Broken) == 0 {
		return out, fmt.Errorf("%w: %s under %s breaks only properties its expectation "+
			"ignores (%v)", ErrNoFailure, sc.Name, cfg.Name(), broken)
	}
	out.Scenario = v
	// A candidate whose runs stall (a barrier waiting for a worker that
	// no longer gets a job) does not fail; it need not take the whole
	// deadline to show it.
	timeout := base.TimeoutMS
	base.TimeoutMS = min(base.TimeoutMS, max(2000, int(5*out.longest/time.Millisecond)))
	for {
		var kept bool
		for _, c := range reductions(cur, base) {
			v, t, _, fails, err := try(c.r, out.Broken)
			if err != nil {
				return out, err
			}
			if progress != nil {
				progress(c.step, fails)
			}
			if fails {
				cur, out.Scenario, failing, kept = c.r, v, t, true
				out.Steps = append(out.Steps, c.step)
				break
			}
		}
		if !kept {
			break
		}
	}
	out.Reduction = cur
	out.Scenario.TimeoutMS = timeout // the file keeps the scenario's own
	out.Scenario.Description = fmt.Sprintf("%s shrunk under %s: %s.", sc.Name,
		cfg.Name(), cmp.Or(strings.Join(out.Steps, "; "), "nothing removed"))
	out.Scenario.Expect = map[string]scenarios.Expectation{cfg.Name(): reproduces(
		out.Broken, serial)}
	if serial && failing != nil {
		out.Replay = failing.Serial.Replay
		s, err := ShrinkSchedule(ctx, b, out.Scenario, out.Replay, opts)
		out.Runs += s.Runs
		if err != nil {
			return out, err
		}
		out.Schedule = &s
	}
	return out, nil
}

// candidate is one reduction to try and how to describe it.
type candidate struct {
	r    scenarios.Reduction
	step string
}

// reductions lists the reductions one change smaller than cur, smallest
// first within each kind: fewer workers, then a delivery dropped, then
// fewer copies of one delivery, then a fault dropped.
func reductions(cur scenarios.Reduction, sc *scenarios.Scenario) []candidate {
	var out []candidate
	for _, w := range smaller(1, cur.Workers) {
		r := cur.Clone()
		r.Workers = w
		step := fmt.Sprintf("workers %d → %d", cur.Workers, w)
		// Faults aimed at the workers dropped go with them.
		for i, f := range sc.Faults {
			if n, err := strconv.Atoi(strings.TrimPrefix(f.Worker, "W")); err == nil &&
				strings.HasPrefix(f.Worker, "W") && n > w && r.Faults[i] {
				r.Faults[i] = false
				step += fmt.Sprintf(", faults[%d] with %s", i, f.Worker)
			}
		}
		out = append(out, candidate{r, step})
	}
	if cur.Deliveries() > 1 {
		for i, c := range cur.Copies {
			if c > 0 {
				r := cur.Clone()
				r.Copies[i] = 0
				out = append(out, candidate{r, fmt.Sprintf("deliveries[%d] dropped", i)})
			}
		}
	}
	for i, c := range cur.Copies {
		for _, n := range smaller(1, c) {
			r := cur.Clone()
			r.Copies[i] = n
			out = append(out, candidate{r,
				fmt.Sprintf("deliveries[%d].copies %d → %d", i, c, n)})
		}
	}
	for i, k := range cur.Faults {
		if k {
			r := cur.Clone()
			r.Faults[i] = false
			f := sc.Faults[i]
			out = append(out, candidate{r, fmt.Sprintf("faults[%d] dropped (%s %s at %s)",
				i, f.Kind, cmp.Or(f.Worker, f.Message), cmp.Or(f.At, "its checkpoint"))})
		}
	}
	return out
}

// smaller lists values from lo up to n−1 to try instead of n, ascending:
// all of them when there are few, else lo, lo+1 and a quarter, half and
// three quarters of the way, and n−1; the search repeats, so a large n
// comes down in a few rounds.
func smaller(lo, n int) []int {
	if n-lo <= 8 {
		var out []int
		for v := lo; v < n; v++ {
			out = append(out, v)
		}
		return out
	}
	out := []int{lo, lo + 1, lo + (n-lo)/4, lo + (n-lo)/2, lo + 3*(n-lo)/4, n - 1}
	slices.Sort(out)
	return slices.Compact(out)
}

// ShrinkConfig picks the configuration of sc named config, or its only
// one when config is empty.
func ShrinkConfig(sc *scenarios.Scenario, config string) (scenarios.Config, error) {
	var names []string
	var ofStrategy []scenarios.Config
	for _, c := range sc.Configs() {
		if c.Name() == config || (config == "" && len(sc.Configs()) == 1) {
			return c, nil
		}
		if c.Strategy == config {
			ofStrategy = append(ofStrategy, c)
		}
		names = append(names, c.Name())
	}
	if len(ofStrategy) == 1 {
		return ofStrategy[0], nil // a strategy the scenario runs one way only
	}
	if config == "" {
		return scenarios.Config{}, fmt.Errorf("%w: scenario %s runs %d configurations; "+
			"name the one to shrink (%s)", ErrConfig, sc.Name, len(names),
			strings.Join(names, ", "))
	}
	return scenarios.Config{}, fmt.Errorf("%w: scenario %s has no configuration %s (it "+
		"runs %s)", ErrConfig, sc.Name, config, strings.Join(names, ", "))
}

// ErrConfig is wrapped by the error for a configuration a scenario does
// not run.
var ErrConfig = errors.New("no such configuration")

// reproduces is the expectation of a shrunk scenario: every run breaks
// the properties it was shrunk for, and the others are shown, not gated.
// A serialized schedule's runs are only shown: one failing run among them
// is what the shrink kept, and its token replays it.
func reproduces(broken []check.Property, serial bool) scenarios.Expectation {
	if serial {
		return scenarios.Expectation{Observe: true}
	}
	e := scenarios.Expectation{}
	for _, p := range check.All {
		if slices.Contains(broken, p) {
			e.Broken = append(e.Broken, string(p))
		} else {
			e.Ignore = append(e.Ignore, string(p))
		}
	}
	return e
}
