package sim

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/history"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// SerialRun is the schedule of one serialized run.
type SerialRun struct {
	// Scheduler names the scheduler and its settings for this run.
	Scheduler string `json:"scheduler"`
	// Steps is the order the workers were let through, "W1:claim.lookup".
	Steps []string `json:"steps"`
	// Class names the run's interleaving: runs whose orders differ only
	// in adjacent independent steps share it.
	Class string `json:"class"`
	// Replay is the token that replays the run.
	Replay string `json:"replay"`
	// Ended says why the run was ended early: a divergence from its
	// script or token, or a hang with its blocker graph.
	Ended string `json:"ended,omitempty"`
	// Redundant marks an exhaustive run found equivalent to one explored
	// before.
	Redundant bool `json:"redundant,omitempty"`
}

// Coverage sums up the runs of one configuration under a serialized
// scheduler.
type Coverage struct {
	Scheduler string `json:"scheduler"`
	Runs      int    `json:"runs"`
	// Interleavings counts the distinct interleavings the runs covered.
	Interleavings int `json:"interleavings"`
	// Failures counts runs with verdict fail; FailingInterleavings the
	// distinct interleavings among them.
	Failures             int `json:"failures"`
	FailingInterleavings int `json:"failing_interleavings"`
	// Rate is Failures/Runs; Low and High bound it with 95 % confidence
	// (Wilson score interval).
	Rate float64 `json:"rate"`
	Low  float64 `json:"rate_low"`
	High float64 `json:"rate_high"`
	// Bound is pct's guaranteed per-run detection probability for a bug
	// of its depth, and RunsFor99 the runs that find it with 99 %.
	Bound     float64 `json:"pct_bound,omitempty"`
	RunsFor99 int     `json:"pct_runs_for_99,omitempty"`
	// Complete is set when an exhaustive search explored every
	// interleaving; false means it stopped at max_runs.
	Complete bool `json:"complete,omitempty"`
	// Redundant counts exhaustive runs cut short as equivalent to
	// others.
	Redundant int `json:"redundant,omitempty"`
}

// runner hands each run of one configuration its chooser and keeps what
// an exhaustive search or a replay needs between runs.
type runner struct {
	sc    *scenarios.Scenario
	cfg   scenarios.Config
	runs  int
	token *schedule.Token
	ex    *schedule.Explorer
	cur   *schedule.ExploreRun
}

// newRunner returns the runner of cfg, or nil when a replay token names
// another configuration.
func newRunner(sc *scenarios.Scenario, cfg scenarios.Config, runs int,
	opts Options) (*runner, error) {
	r := &runner{sc: sc, cfg: cfg, runs: runs}
	if opts.Replay != "" {
		tok, err := schedule.ParseToken(opts.Replay)
		if err != nil {
			return nil, err
		}
		if tok.Config != cfg.Name() {
			return nil, nil
		}
		r.token = &tok
		if opts.Runs == 0 {
			r.runs = 1
		}
		return r, nil
	}
	s := sc.Schedule
	if s.Kind == "exhaustive" {
		r.ex = &schedule.Explorer{Prune: !s.NoPrune, MaxRuns: s.MaxRuns}
		if len(s.Window) == 2 {
			r.ex.Window = schedule.Window(checkpoint.Name(s.Window[0]),
				checkpoint.Name(s.Window[1]))
		}
	}
	return r, nil
}

// more reports whether run n is to be run.
func (r *runner) more(n int) bool {
	if r.ex == nil {
		return n <= r.runs
	}
	r.cur = r.ex.Next()
	return r.cur != nil
}

// options returns opts with run n's chooser.
func (r *runner) options(opts Options, n int) Options {
	s := r.sc.Schedule
	workers := scenarios.WorkerNames(r.sc.Workers)
	switch {
	case r.token != nil:
		opts.chooser = schedule.Script{Steps: r.token.Steps}
		opts.scheduler = "replay of " + r.token.Scheduler
	case s.Kind == "script":
		steps, _ := schedule.ParseScript(s.ScriptFor(r.cfg.Strategy))
		opts.chooser, opts.scheduler = schedule.Script{Steps: steps}, "script"
	case s.Kind == "random":
		opts.chooser = schedule.NewRandom(s.Seed, n)
		opts.scheduler = fmt.Sprintf("random seed=%d run=%d", s.Seed, n)
	case s.Kind == "pct":
		opts.chooser = schedule.NewPCT(workers, s.Depth, s.MaxSteps, s.Seed, n)
		opts.scheduler = fmt.Sprintf("pct depth=%d k=%d seed=%d run=%d",
			s.Depth, s.MaxSteps, s.Seed, n)
	case s.Kind == "exhaustive":
		opts.chooser = r.cur
		opts.scheduler = fmt.Sprintf("exhaustive run=%d", n)
	}
	return opts
}

// done closes run t: an exhaustive search moves to its next branch.
func (r *runner) done(t *Trial) {
	if r.cur == nil || t.Serial == nil {
		return
	}
	t.Serial.Redundant = r.cur.Cut
	r.cur.Finish()
}

// coverage sums up the trials of a serialized configuration.
func (r *runner) coverage(trials []Trial) *Coverage {
	if len(trials) == 0 || trials[0].Serial == nil {
		return nil
	}
	c := &Coverage{Scheduler: r.sc.Schedule.Kind, Runs: len(trials)}
	if r.token != nil {
		c.Scheduler = "replay"
	}
	classes, failing := map[string]bool{}, map[string]bool{}
	for _, t := range trials {
		fail := t.Judgement.Verdict == check.Fail
		if t.Serial.Ended == "" && !t.Serial.Redundant {
			classes[t.Serial.Class] = true
			failing[t.Serial.Class] = failing[t.Serial.Class] || fail
		}
		if fail {
			c.Failures++
		}
	}
	c.Interleavings = len(classes)
	for _, f := range failing {
		if f {
			c.FailingInterleavings++
		}
	}
	c.Rate, c.Low, c.High = Wilson(c.Failures, c.Runs)
	s := r.sc.Schedule
	if s.Kind == "pct" && r.token == nil {
		c.Bound = schedule.PCTBound(r.sc.Workers, s.MaxSteps, s.Depth)
		c.RunsFor99 = schedule.RunsFor(c.Bound)
	}
	if r.ex != nil {
		c.Complete, c.Redundant = r.ex.Complete(), r.ex.Redundant()
	}
	return c
}

// Wilson returns the observed rate of k successes in n trials and its 95 %
// Wilson score interval.
func Wilson(k, n int) (rate, low, high float64) {
	if n == 0 {
		return 0, 0, 1
	}
	const z = 1.959963984540054
	p, fn := float64(k)/float64(n), float64(n)
	den := 1 + z*z/fn
	mid := (p + z*z/(2*fn)) / den
	half := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn)) / den
	return p, max(0, mid-half), min(1, mid+half)
}

// startFeed starts ingest. A serialized run ingests every delivery before
// the workers start, at once, whatever its arrival time: the schedule,
// not the clock, decides who goes when.
func (e *runEnv) startFeed(ctx context.Context, t *Trial, wg *sync.WaitGroup) {
	if e.chooser == nil {
		wg.Go(func() { e.feed(ctx, t) })
		return
	}
	defer e.fed.Store(true)
	for _, a := range e.sc.Arrivals {
		if err := e.ingest(ctx, a, t); err != nil {
			e.rec.Add(history.Event{Worker: "ingest", Phase: history.Note,
				Result: "rejected", Err: err.Error()})
		}
	}
}

// abort ends a serialized run that cannot go on.
func (e *runEnv) abort(err error) {
	e.rec.Add(history.Event{Worker: "sim", Phase: history.Note,
		Result: "run ended: " + err.Error()})
	if e.stop != nil {
		e.stop()
	}
}

// aborted reports whether a serialized run was ended early.
func (e *runEnv) aborted() bool {
	_, err := e.ctl.Schedule()
	return err != nil
}

// recordSchedule stores a serialized run's schedule and replay token.
func (e *runEnv) recordSchedule(t *Trial, opts Options) {
	if !e.ctl.Serialized() {
		return
	}
	steps, err := e.ctl.Schedule()
	s := &SerialRun{Scheduler: opts.scheduler, Class: schedule.Canonical(steps),
		Replay: schedule.TokenOf(t.Strategy, opts.scheduler, steps).Encode()}
	for _, st := range steps {
		s.Steps = append(s.Steps, st.String())
	}
	if err != nil {
		s.Ended = err.Error()
		t.Stuck = append([]string{"run ended: " + s.Ended}, t.Stuck...)
	}
	t.Serial = s
}

// ReplayCommand is the command line that replays a serialized run.
func ReplayCommand(scenario string, t Trial) string {
	if t.Serial == nil {
		return ""
	}
	return fmt.Sprintf("dedupsim run --replay %s %s", t.Serial.Replay, scenario)
}

// unknownWhy says why a run's verdict is unknown.
func unknownWhy(t Trial) string {
	if t.Serial != nil && t.Serial.Ended != "" {
		return "verdict unknown: " + strings.TrimSpace(t.Serial.Ended)
	}
	if len(t.Stuck) == 0 {
		return "verdict unknown: the run passed its deadline"
	}
	return "verdict unknown: the run passed its deadline; stuck: " + strings.Join(t.Stuck, ", ")
}

// CheckReplay checks a replay token against sc before anything runs: it
// must read, name one of sc's configurations, and fix steps of sc's own
// workers at checkpoints that configuration passes. Its error wraps
// schedule.ErrToken, and ErrRefused as the scenario is not run.
func CheckReplay(sc *scenarios.Scenario, token string) error {
	err := checkReplay(sc, token)
	if err != nil {
		return refusal{err}
	}
	return nil
}

func checkReplay(sc *scenarios.Scenario, token string) error {
	tok, err := schedule.ParseToken(token)
	if err != nil {
		return err
	}
	configs := sc.Configs()
	i := slices.IndexFunc(configs, func(c scenarios.Config) bool {
		return c.Name() == tok.Config
	})
	if i < 0 {
		return fmt.Errorf("%w: scenario %s has no configuration %s", schedule.ErrToken,
			sc.Name, tok.Config)
	}
	cfg := configs[i]
	workers := scenarios.WorkerNames(sc.Workers)
	for n, s := range tok.Steps {
		if !slices.Contains(workers, s.Worker) {
			return fmt.Errorf("%w: step %d names worker %s; scenario %s has %s",
				schedule.ErrToken, n+1, s.Worker, sc.Name, workerRange(workers))
		}
	}
	passed, err := sc.Passes(cfg)
	if err != nil {
		return err
	}
	for n, s := range tok.Steps {
		if s.At != "" && !slices.Contains(passed, s.At) {
			return fmt.Errorf("%w: step %d, %s:%s: %s never passes checkpoint %s",
				schedule.ErrToken, n+1, s.Worker, s.At, cfg.Name(), s.At)
		}
	}
	return nil
}

// refusal is a replay token's error: it wraps ErrRefused too, without
// saying so, as its own message says why.
type refusal struct{ error }

func (r refusal) Unwrap() []error { return []error{r.error, ErrRefused} }

// workerRange names workers W1 … Wn: "only W1", "W1 and W2" or "W1 to W4".
func workerRange(workers []string) string {
	switch len(workers) {
	case 0:
		return "no workers"
	case 1:
		return "only " + workers[0]
	case 2:
		return workers[0] + " and " + workers[1]
	}
	return workers[0] + " to " + workers[len(workers)-1]
}
