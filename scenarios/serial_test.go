package scenarios

import (
	"strings"
	"testing"

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
