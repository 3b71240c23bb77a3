package cli

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
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
	code, _, errOut := call(t, "run", "--replay", "bm90LWEtdG9rZW4", "scripted-original-race")
	require.NotEqual(t, ExitOK, code)
	require.Contains(t, errOut, "bad replay token")
}
