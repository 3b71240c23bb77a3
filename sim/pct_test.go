package sim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// pctRaceRuns is how many seeded runs the rate of the legacy race is
// measured over.
const pctRaceRuns = 50

// The legacy race has depth 2: the worker with the higher priority must
// lose it at one of the steps where it has read but not yet written
// (after its lookup or its GET, or after its DEL with COMMIT still to
// come), and the other worker then runs its whole job in between. One
// change point among the first k steps, with the right worker ahead,
// hits such a step with probability at least 1/(n·k), n = 2 workers and
// k = 32 (16 steps per worker by default): PCT's bound for depth 2.
func TestPCTFindsTheLegacyRaceAtLeastAsOftenAsItsBound(t *testing.T) {
	sr := runSerial(t, serialRace("legacy", "{kind: pct, depth: 2, seed: 1}"),
		sim.Options{Runs: pctRaceRuns})
	require.Len(t, sr.Trials, pctRaceRuns)
	require.NotNil(t, sr.Coverage)

	failures := 0
	for _, tr := range sr.Trials {
		require.NotNil(t, tr.Serial)
		// A run ended early would count as neither found nor missed.
		require.Empty(t, tr.Serial.Ended, "run %d", tr.Run)
		require.NotEqual(t, check.Unknown, tr.Judgement.Verdict, "run %d", tr.Run)
		if tr.Judgement.Verdict == check.Fail {
			failures++
			require.Contains(t, tr.Judgement.Broken, check.NoDuplicate,
				"run %d: %v", tr.Run, tr.Serial.Steps)
		}
	}
	require.Equal(t, failures, sr.Coverage.Failures)
	require.Equal(t, pctRaceRuns, sr.Coverage.Runs)

	bound := sr.Coverage.Bound
	require.Equal(t, schedule.PCTBound(2, 32, 2), bound)
	rate := float64(failures) / float64(pctRaceRuns)
	t.Logf("pct depth 2 seed 1: %d of %d runs store the message twice: rate %.3f "+
		"(95%% interval %.3f to %.3f), bound 1/(n·k) = %.4f, %d runs for 99%%",
		failures, pctRaceRuns, rate, sr.Coverage.Low, sr.Coverage.High, bound,
		sr.Coverage.RunsFor99)
	require.Positive(t, failures)
	require.GreaterOrEqual(t, rate, bound)
}
