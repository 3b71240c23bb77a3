package schedule

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim/history"
)

// model is a worker's steps in a test without servers: checkpoint and
// the detail that says what it touches.
type model [][2]string

// runModel runs workers through their model steps under a serialized
// controller with ch, and returns the schedule taken.
func runModel(t *testing.T, ch Chooser, workers map[string]model) ([]Step, error) {
	t.Helper()
	var names []string
	for w := range workers {
		names = append(names, w)
	}
	c := New(Config{Workers: names, Recorder: history.NewRecorder(nil), Chooser: ch})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w, steps := range workers {
		wg.Go(func() {
			defer c.Finished(w)
			for _, s := range steps {
				p := checkpoint.Point{Worker: w, Name: checkpoint.Name(s[0]), Detail: s[1]}
				if c.Enter(ctx, p) != nil {
					return
				}
				c.Done(ctx, p, checkpoint.Outcome{})
			}
		})
	}
	wg.Wait()
	return c.Schedule()
}

func names(steps []Step) string {
	var out []string
	for _, s := range steps {
		out = append(out, s.String())
	}
	return strings.Join(out, " ")
}

var checkThenSet = model{{"claim.check", "GET k"}, {"claim.mark", "SETEX k 1"}}

func TestAScriptIsFollowedExactly(t *testing.T) {
	steps, err := ParseScript([]string{"W1:claim.check", "W2:claim.check",
		"W2:claim.mark", "W1"})
	require.NoError(t, err)
	got, err := runModel(t, Script{Steps: steps},
		map[string]model{"W1": checkThenSet, "W2": checkThenSet})
	require.NoError(t, err)
	require.Equal(t, "W1:claim.check W2:claim.check W2:claim.mark W1:claim.mark",
		names(got))
}

func TestAScriptStepThatCannotBeTakenSaysWhereTheRunDiverged(t *testing.T) {
	steps, err := ParseScript([]string{"W1:claim.check", "W1:claim.check"})
	require.NoError(t, err)
	_, err = runModel(t, Script{Steps: steps},
		map[string]model{"W1": checkThenSet, "W2": checkThenSet})
	require.ErrorIs(t, err, ErrDiverged)
	require.Contains(t, err.Error(), "step 2")
	require.Contains(t, err.Error(), "W1 is at claim.mark")
}

func TestAReplayTokenRoundTripsItsSteps(t *testing.T) {
	steps := []Step{{Worker: "W1", At: checkpoint.JobFetch},
		{Worker: "W12", At: checkpoint.ClaimMark}, {Worker: "W2", At: checkpoint.OutboxMark}}
	tok := TokenOf("legacy+outbox", "pct depth=2 k=32 seed=1 run=3", steps)
	got, err := ParseToken(tok.Encode())
	require.NoError(t, err)
	require.Equal(t, tok, got)
	_, err = ParseToken("bm90IGEgdG9rZW4")
	require.ErrorIs(t, err, ErrToken)
}

func TestPCTAndRandomRepeatTheirOrderForTheSameSeed(t *testing.T) {
	w := map[string]model{"W1": checkThenSet, "W2": checkThenSet, "W3": checkThenSet}
	for _, mk := range []func() Chooser{
		func() Chooser { return NewRandom(7, 3) },
		func() Chooser { return NewPCT([]string{"W1", "W2", "W3"}, 3, 6, 7, 3) },
	} {
		first, err := runModel(t, mk(), w)
		require.NoError(t, err)
		for range 5 {
			again, err := runModel(t, mk(), w)
			require.NoError(t, err)
			require.Equal(t, names(first), names(again), "seed 7 run 3")
		}
	}
}

func TestThePCTBoundAndTheRunsFor99Percent(t *testing.T) {
	p := PCTBound(2, 32, 2)
	require.InDelta(t, 1.0/64, p, 1e-12)
	require.Equal(t, 293, RunsFor(p)) // ceil(ln 0.01 / ln(63/64))
	require.Equal(t, 1, RunsFor(1))
}

// explore runs an exhaustive search over the model and returns each
// run's schedule.
func explore(t *testing.T, e *Explorer, w map[string]model) [][]Step {
	t.Helper()
	var out [][]Step
	for r := e.Next(); r != nil; r = e.Next() {
		steps, err := runModel(t, r, w)
		require.NoError(t, err)
		if !r.Cut {
			out = append(out, steps)
		}
		r.Finish()
	}
	return out
}

func classes(runs [][]Step) map[string]bool {
	out := map[string]bool{}
	for _, r := range runs {
		out[Canonical(r)] = true
	}
	return out
}

func TestTheUnprunedSearchRunsEveryMergeOrder(t *testing.T) {
	// Two workers of three steps each merge in C(6,3) = 20 orders.
	three := model{{"claim.lookup", "messages source_id=a"}, {"claim.check", "GET k"},
		{"claim.mark", "SETEX k 1"}}
	e := &Explorer{}
	runs := explore(t, e, map[string]model{"W1": three, "W2": three})
	require.Len(t, runs, 20)
	require.True(t, e.Complete())

	// By hand: with lookups and GETs commuting, an order is fixed by the
	// order of the two SETEX and by whether the second worker's GET comes
	// before the first SETEX: 2 × 2 = 4 interleavings.
	require.Len(t, classes(runs), 4)
}

func TestPruningCoversEveryInterleavingWithFewerRuns(t *testing.T) {
	three := model{{"claim.lookup", "messages source_id=a"}, {"claim.check", "GET k"},
		{"claim.mark", "SETEX k 1"}}
	w := map[string]model{"W1": three, "W2": three}
	all := classes(explore(t, &Explorer{}, w))
	pruned := &Explorer{Prune: true}
	runs := explore(t, pruned, w)
	require.Equal(t, all, classes(runs))
	require.Less(t, pruned.Runs(), 20)

	// Steps on different keys commute: of the C(4,2) = 6 orders, one
	// interleaving. Sleep sets alone start two more runs, which they cut
	// as soon as every waiting step is asleep.
	w = map[string]model{"W1": {{"claim.mark", "SET a"}, {"claim.clear", "DEL a"}},
		"W2": {{"claim.mark", "SET b"}, {"claim.clear", "DEL b"}}}
	pruned = &Explorer{Prune: true}
	require.Len(t, explore(t, pruned, w), 1)
	require.Equal(t, 3, pruned.Runs())
	require.Equal(t, 2, pruned.Redundant())
}

func TestASearchStopsAtItsBoundAndSaysItIsIncomplete(t *testing.T) {
	e := &Explorer{MaxRuns: 3}
	runs := explore(t, e, map[string]model{"W1": checkThenSet, "W2": checkThenSet})
	require.Len(t, runs, 3)
	require.False(t, e.Complete())
}

func TestAWorkerBlockedForGoodIsAHangWithItsBlockerGraph(t *testing.T) {
	c := New(Config{Workers: []string{"W1"}, Recorder: history.NewRecorder(nil),
		Chooser: Script{}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := checkpoint.Point{Worker: "W1", Name: checkpoint.MessageInsert, PID: 7}
	require.NoError(t, c.Enter(ctx, p))
	c.SetBlockedAt("W1", 7, "backend 9")
	require.Eventually(t, func() bool {
		_, err := c.Schedule()
		return errors.Is(err, ErrHang)
	}, 2*hangAfter, 10*time.Millisecond)
	_, err := c.Schedule()
	require.Contains(t, err.Error(), "W1 waits for backend 9")
}

func TestATokenCutShortOrEditedIsRefused(t *testing.T) {
	tok := Token{Config: "legacy", Scheduler: "pct depth=2 seed=1 run=3",
		Steps: []ScriptStep{{Worker: "W1", At: "job.fetch"}, {Worker: "W2", At: "job.fetch"},
			{Worker: "W1", At: "claim.lookup"}}}
	enc := tok.Encode()
	back, err := ParseToken(enc)
	require.NoError(t, err)
	require.Equal(t, tok, back)

	raw, err := base64.RawURLEncoding.DecodeString(enc)
	require.NoError(t, err)
	parts := strings.Split(string(raw), "|")
	require.Len(t, parts, 5)
	steps := parts[3]
	for name, bad := range map[string]string{
		"cut short":     enc[:len(enc)-6],
		"cut at half":   enc[:len(enc)/2],
		"a step more":   strings.Replace(string(raw), steps, steps+steps[:2], 1),
		"a step edited": strings.Replace(string(raw), steps, "2"+steps[1:], 1),
	} {
		if !strings.HasPrefix(name, "cut") {
			require.NotEqual(t, string(raw), bad, name)
			bad = base64.RawURLEncoding.EncodeToString([]byte(bad))
		}
		_, err := ParseToken(bad)
		require.ErrorIs(t, err, ErrToken, name)
	}
}

func TestARepeatCountOrScriptOverTheCapIsRefusedBeforeItIsExpanded(t *testing.T) {
	var se *StepError
	_, err := ParseScript([]string{"W2", "W1*2000000000"})
	require.ErrorAs(t, err, &se)
	require.Equal(t, 1, se.Index)
	require.EqualError(t, err, `step 2 "W1*2000000000": repeat count must be `+
		`from 1 to 100000, not 2000000000`)

	_, err = ParseScript([]string{"W1*99999999999999999999"})
	require.ErrorContains(t, err, "repeat count must be from 1 to 100000")

	steps, err := ParseScript([]string{"W1*50000", "W2*49999", "W1"})
	require.NoError(t, err)
	require.Len(t, steps, MaxScriptSteps)
	_, err = ParseScript([]string{"W1*50000", "W2*50000", "W1"})
	require.ErrorAs(t, err, &se)
	require.Equal(t, 2, se.Index)
	require.ErrorContains(t, err, "the steps, repeats expanded, must be at most 100000 in all")

	_, err = ParseScript([]string{"W1:claim.nope"})
	require.ErrorIs(t, err, checkpoint.ErrUnknown)
	_, err = ParseScript([]string{"W1*0"})
	require.ErrorContains(t, err, "bad repeat count")
}
