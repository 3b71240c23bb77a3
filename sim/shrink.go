package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// ErrNoFailure is returned by ShrinkSchedule for a token whose run does
// not fail.
var ErrNoFailure = errors.New("the replayed run does not fail")

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
// by its replay token, to the shortest prefix of its steps that still
// breaks every property the run broke.
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
	for n := range len(tok.Steps) + 1 {
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
