package sim_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// large skips a test unless DEDUPSIM_EXPLORE=1: the large explorations
// take many minutes and run through make explore; CI runs the small ones
// in explore_test.go, pct_test.go and shrink_test.go.
func large(t *testing.T) {
	t.Helper()
	if os.Getenv("DEDUPSIM_EXPLORE") != "1" {
		t.Skip("a large exploration: make explore runs it (DEDUPSIM_EXPLORE=1)")
	}
}

// runLong runs a serialized scenario of one strategy with an hour to
// finish.
func runLong(t *testing.T, text string, opts sim.Options) sim.StrategyResult {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	res, err := sim.RunScenario(c, testenv.Backend(t), scenario(t, text), opts)
	require.NoError(t, err)
	require.Len(t, res.Strategies, 1)
	return res.Strategies[0]
}

// Three workers, three copies, every interleaving of the claim and the
// transaction: the window runs from the lookup to the claim's release (or
// to COMMIT for the guards that hold nothing in Redis). Guards whose claim
// is atomic and kept, or enforced by the database, never fail; legacy
// fails; setnx-release fails too, in the window between another worker's
// lookup and its SET NX in which the first releases its claim after
// COMMIT.
func TestLargeExhaustiveSearchesOfThreeWorkers(t *testing.T) {
	large(t)
	for _, c := range []struct {
		strategy, window string
		fails            bool
	}{
		{"legacy", "[claim.lookup, tx.commit]", true},
		{"setnx", "[claim.lookup, tx.commit]", false},
		{"setnx-release", "[claim.lookup, claim.release]", true},
		{"db-unique", "[claim.lookup, tx.commit]", false},
		{"advisory", "[claim.lookup, tx.commit]", false},
	} {
		t.Run(c.strategy, func(t *testing.T) {
			sched := fmt.Sprintf("{kind: exhaustive, window: %s, max_runs: 20000}", c.window)
			sr := runLong(t, threeWayRace(c.strategy, sched), sim.Options{})
			cov := sr.Coverage
			t.Logf("%s over %s: %d runs, complete %t, %d interleavings, %d failing, "+
				"%d failing runs", c.strategy, c.window, cov.Runs, cov.Complete,
				cov.Interleavings, cov.FailingInterleavings, cov.Failures)
			for _, tr := range sr.Trials {
				require.Empty(t, tr.Serial.Ended, tr.Serial.Replay)
			}
			require.True(t, cov.Complete, "the search stopped at its bound")
			if c.fails {
				require.Positive(t, cov.Failures)
			} else {
				require.Zero(t, cov.Failures)
			}
		})
	}
}

// Many seeded runs of pct at depths 2 and 3 on the legacy race: the
// observed rate is at least the bound at each depth.
func TestLargePCTRatesAgainstTheirBounds(t *testing.T) {
	large(t)
	const runs = 400
	for _, depth := range []int{2, 3} {
		t.Run(fmt.Sprintf("depth=%d", depth), func(t *testing.T) {
			sched := fmt.Sprintf("{kind: pct, depth: %d, seed: 11}", depth)
			sr := runLong(t, serialRace("legacy", sched), sim.Options{Runs: runs})
			cov := sr.Coverage
			require.Equal(t, schedule.PCTBound(2, 32, depth), cov.Bound)
			t.Logf("depth %d: %d of %d runs fail: rate %.3f (%.3f–%.3f), bound %.5f",
				depth, cov.Failures, cov.Runs, cov.Rate, cov.Low, cov.High, cov.Bound)
			require.GreaterOrEqual(t, cov.Rate, cov.Bound)
		})
	}
}
