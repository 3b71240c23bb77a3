package cli

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/schedule"
)

func TestAFailingScriptedRunPrintsATokenThatReplaysIt(t *testing.T) {
	code, out, errOut := call(t, "run", "scripted-original-race")
	require.Equal(t, ExitOK, code, errOut)
	m := regexp.MustCompile(`replay: dedupsim run --replay (\S+) scripted-original-race`).
		FindStringSubmatch(out)
	require.NotNil(t, m, out)

	code, again, errOut := call(t, "run", "--replay", m[1], "scripted-original-race")
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, again, "legacy under replay: 1 run, 1 distinct interleaving "+
		"(1 failing), 1 failure")
	require.NotContains(t, again, "setnx")
}

// Every bad token is refused before anything runs: one that does not
// decode, one for a configuration or schedule the scenario lacks, one
// naming a worker the scenario does not have, one with no steps, and one
// whose scheduler cannot be read.
func TestBadReplayTokensAreBadInputAndNothingRuns(t *testing.T) {
	fetch := []schedule.ScriptStep{{Worker: "W1", At: "job.fetch"}}
	encode := func(config, scheduler string, steps []schedule.ScriptStep) string {
		return schedule.Token{Config: config, Scheduler: scheduler, Steps: steps}.Encode()
	}
	for _, c := range []struct {
		name, token, scenario, want string
	}{
		{"not a token", "bm90LWEtdG9rZW4", "scripted-original-race", "bad replay token"},
		{"another configuration", encode("advisory", "script", fetch), "scripted-original-race",
			"replays configuration advisory, which scenario scripted-original-race " +
				"does not run (it runs legacy, setnx)"},
		{"a free schedule", encode("legacy", "script", fetch), "c01-original-race",
			"scenario c01-original-race has a barrier schedule; a token replays the " +
				"steps of a serialized one"},
		{"worker W9", encode("legacy", "script", []schedule.ScriptStep{{Worker: "W9", At: "job.fetch"}}),
			"scripted-original-race",
			"bad replay token: step 1 names worker W9; scenario scripted-original-race has W1 and W2"},
		{"worker W0", encode("legacy", "script", []schedule.ScriptStep{{Worker: "W0", At: "job.fetch"}}),
			"scripted-original-race",
			"bad replay token: step 1 names worker W0; scenario scripted-original-race has W1 and W2"},
		{"no steps", encode("legacy", "script", nil), "scripted-original-race",
			"bad replay token: it has no steps"},
		{"an unreadable scheduler", encode("legacy", "pct depth", fetch), "scripted-original-race",
			`bad replay token: scheduler "pct depth": setting "depth" is not name=number`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := call(t, "run", "--replay", c.token, c.scenario)
			require.Equal(t, ExitBadInput, code, errOut)
			require.Contains(t, errOut, c.want)
			require.NotContains(t, errOut, "wants W")
			require.Empty(t, out, "nothing runs")
		})
	}
}
