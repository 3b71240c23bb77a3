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

func TestABadReplayTokenFailsTheRun(t *testing.T) {
	code, out, errOut := call(t, "run", "--replay", "bm90LWEtdG9rZW4", "scripted-original-race")
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "bad replay token")
	require.Empty(t, out, "nothing runs")
}

func TestAReplayTokenForAConfigurationTheScenarioLacksIsBadInput(t *testing.T) {
	tok := schedule.Token{Config: "advisory", Scheduler: "script",
		Steps: []schedule.ScriptStep{{Worker: "W1", At: "job.fetch"}}}
	code, out, errOut := call(t, "run", "--replay", tok.Encode(), "scripted-original-race")
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "replays configuration advisory, which scenario "+
		"scripted-original-race does not run (it runs legacy, setnx)")
	require.Empty(t, out, "nothing runs")
}

func TestAReplayTokenOnAScenarioThatIsNotSerializedIsBadInput(t *testing.T) {
	tok := schedule.Token{Config: "legacy", Scheduler: "script",
		Steps: []schedule.ScriptStep{{Worker: "W1", At: "job.fetch"}}}
	code, out, errOut := call(t, "run", "--replay", tok.Encode(), "c01-original-race")
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "scenario c01-original-race has a barrier schedule; a "+
		"token replays the steps of a serialized one")
	require.Empty(t, out, "nothing runs")
}
