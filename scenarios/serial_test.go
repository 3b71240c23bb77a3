package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// withSchedule replaces good's barrier schedule with sched.
func withSchedule(sched string) string {
	return strings.Replace(good, "schedule:\n  kind: barrier\n  barriers:\n"+
		"    - at: claim.mark\n", sched, 1)
}

func TestASerializedScheduleLoadsWithDefaultsFilled(t *testing.T) {
	sc, err := LoadFile(write(t, withSchedule("schedule: {kind: pct, seed: 1}\n")))
	require.NoError(t, err)
	require.True(t, sc.Schedule.Serialized())
	require.Equal(t, 2, sc.Schedule.Depth)
	require.Equal(t, 32, sc.Schedule.MaxSteps)

	sc, err = LoadFile(write(t, withSchedule("schedule: {kind: exhaustive}\n")))
	require.NoError(t, err)
	require.Equal(t, 1000, sc.Schedule.MaxRuns)
}

func TestAScriptStepAStrategyNeverTakesIsAnError(t *testing.T) {
	e := loadErr(t, withSchedule("schedule:\n  kind: script\n"+
		"  steps: [W1:job.fetch, W1:claim.check]\n"))
	require.Equal(t, "schedule.steps", e.Field)
	require.Contains(t, e.Msg, "strategy setnx never passes checkpoint claim.check")
}

func TestAScriptNamesKnownWorkers(t *testing.T) {
	e := loadErr(t, withSchedule("schedule: {kind: script, steps: [W3*2]}\n"))
	require.Contains(t, e.Msg, `unknown worker "W3"`)
}

func TestAWindowGoesInFlowOrder(t *testing.T) {
	e := loadErr(t, withSchedule(
		"schedule: {kind: exhaustive, window: [tx.commit, claim.mark]}\n"))
	require.Equal(t, "schedule.window", e.Field)
	require.Contains(t, e.Msg, "comes after")
}

func TestAHugeRepeatCountIsRefusedBeforeItIsExpanded(t *testing.T) {
	start := time.Now()
	e := loadErr(t, withSchedule("schedule: {kind: script, steps: [W1*2000000000]}\n"))
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, "schedule.steps[0]", e.Field)
	require.Positive(t, e.Line)
	require.Contains(t, e.Msg, "repeat count must be from 1 to 100000, not 2000000000")

	e = loadErr(t, withSchedule("schedule: {kind: script, steps: [W1*60000, W2*60000]}\n"))
	require.Equal(t, "schedule.steps[1]", e.Field)
	require.Contains(t, e.Msg, "must be at most 100000 in all")
}

func TestAFieldItsScheduleKindDoesNotTakeIsAnError(t *testing.T) {
	for _, c := range []struct {
		sched, field, msg string
	}{
		{"{kind: free, steps: [W1]}", "schedule.steps",
			"only kind script takes steps, not kind free"},
		{"{kind: random, seed: 1, depth: 3}", "schedule.depth",
			"only kind pct takes depth, not kind random"},
		{"{kind: random, max_steps: 40}", "schedule.max_steps",
			"only kind pct takes max_steps, not kind random"},
		{"{kind: exhaustive, seed: 0}", "schedule.seed",
			"only kinds random and pct take seed, not kind exhaustive"},
		{"{kind: pct, window: [claim.lookup, claim.mark]}", "schedule.window",
			"only kind exhaustive takes window, not kind pct"},
		{"{kind: pct, max_runs: 10}", "schedule.max_runs",
			"only kind exhaustive takes max_runs, not kind pct"},
		{"{kind: script, steps: [W1], no_prune: false}", "schedule.no_prune",
			"only kind exhaustive takes no_prune, not kind script"},
		{"{kind: random, per_strategy: {legacy: [W1]}}", "schedule.per_strategy",
			"only kind script takes per_strategy, not kind random"},
		{"{kind: barrier, barriers: [{at: claim.mark}], release_together: true}",
			"schedule.release_together",
			"only kind free takes release_together, not kind barrier"},
		{"{barriers: [{at: claim.mark}]}", "schedule.barriers",
			"only kind barrier takes barriers, not kind free"},
		{"{kind: pct, barriers: []}", "schedule.barriers",
			"only kind barrier takes barriers, not kind pct"},
		{"{seed: 0}", "schedule.seed", "only kinds random and pct take seed, not kind free"},
		{"\n  no_prune: false", "schedule.no_prune",
			"only kind exhaustive takes no_prune, not kind free"},
	} {
		t.Run(c.sched, func(t *testing.T) {
			e := loadErr(t, withSchedule("schedule: "+c.sched+"\n"))
			require.Equal(t, c.field, e.Field)
			require.Positive(t, e.Line)
			require.Equal(t, c.msg, e.Msg)
		})
	}
}

func TestEveryScheduleKindLoadsWithAllItsFieldsAndReadsBackMarshalled(t *testing.T) {
	for _, sched := range []string{
		"{kind: free, release_together: true}",
		"{kind: barrier, barriers: [{at: claim.mark}]}",
		"{kind: script, steps: [W1, W2*2], per_strategy: {legacy: [W2, W1]}}",
		"{kind: random, seed: 2}",
		"{kind: pct, seed: 1, depth: 3, max_steps: 40}",
		"{kind: exhaustive, window: [claim.lookup, claim.mark], max_runs: 10, " +
			"no_prune: true}",
	} {
		t.Run(sched, func(t *testing.T) {
			sc, err := LoadFile(write(t, withSchedule("schedule: "+sched+"\n")))
			require.NoError(t, err)
			data, err := sc.Marshal()
			require.NoError(t, err)
			again, err := Parse("again.yaml", data, nil)
			require.NoError(t, err, "%s", data)
			require.Equal(t, sc.Schedule, again.Schedule)
		})
	}
}
