package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// bigRace is the original race with three workers and three copies.
const bigRace = `app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
subscribers: [{name: crm, secret: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=}]
workers: 3
deliveries: [{payload: single-text.json, copies: 3}]
strategies: [legacy, setnx]
schedule:
  kind: barrier
  barriers: [{per_strategy: {legacy: claim.mark, setnx: claim.mark}}]
runs: 1
expect:
  legacy: {broken: [no-duplicate, one-webhook], ignore: [one-conversation, exclusive-claim]}
`

func TestShrinkWritesASmallerScenarioThatStillFails(t *testing.T) {
	path := file(t, bigRace)
	out := filepath.Join(t.TempDir(), "min.yaml")
	code, stdout, stderr := call(t, "shrink", "-strategy", "legacy", "-out", out, path)
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "s under legacy breaks no-duplicate, one-webhook")
	require.Contains(t, stdout, "as given: 3 workers, 1 delivery of 3 copies, 0 faults")
	require.Contains(t, stdout, "shrunk:   2 workers, 1 delivery of 2 copies, 0 faults")
	require.Contains(t, stdout, "wrote "+out)
	require.Contains(t, stderr, "shrink: workers 3 → 2: still fails: kept")
	require.Contains(t, stderr, "shrink: workers 2 → 1: passes")

	// The file stands alone: moved away from the payload, it runs, holds
	// its expectation, and runs only the shrunk strategy.
	alone := filepath.Join(t.TempDir(), "alone.yaml")
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(alone, data, 0o644))
	code, stdout, stderr = call(t, "run", alone)
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "legacy    fail 1")
	require.NotContains(t, stdout, "setnx")
}

func TestShrinkingWhatDoesNotFailExits1AndWritesNothing(t *testing.T) {
	path := file(t, bigRace)
	out := filepath.Join(t.TempDir(), "min.yaml")
	code, stdout, stderr := call(t, "shrink", "-strategy", "setnx", "-out", out, path)
	require.Equal(t, ExitNotHeld, code, stderr)
	require.Contains(t, stdout, "does not fail: nothing to shrink")
	require.NoFileExists(t, out)
}

func TestBadShrinkInputExits2AndRunsNothing(t *testing.T) {
	path := file(t, bigRace)
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"no scenario":      {nil, "name one scenario"},
		"two scenarios":    {[]string{path, path}, "not 2 arguments"},
		"no strategy":      {[]string{path}, "name the one to shrink (legacy, setnx)"},
		"unknown strategy": {[]string{"-strategy", "advisory", path}, "has no configuration advisory"},
		"unknown property": {[]string{"-strategy", "legacy", "-property", "no-dupe", path},
			`unknown property "no-dupe"`},
		"negative runs": {[]string{"-runs", "-1", "-strategy", "legacy", path}, "-runs"},
		"missing folder": {[]string{"-strategy", "legacy", "-out", "/nonexistent/x.yaml", path},
			"folder /nonexistent does not exist"},
		"no such scenario": {[]string{"nope.yaml"}, "no such file"},
		"out is the scenario": {[]string{"-strategy", "legacy", "-out", path, path},
			"-out: " + path + " is the scenario being shrunk; name another file"},
		"out is its payload": {[]string{"-strategy", "legacy", "-out",
			filepath.Join(filepath.Dir(path), "single-text.json"), path},
			"is the payload file " + filepath.Join(filepath.Dir(path), "single-text.json") +
				" of scenario " + path + ", which the shrink reads; name another file"},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := call(t, append([]string{"shrink"}, c.args...)...)
			require.Equal(t, ExitBadInput, code, stderr)
			require.Contains(t, stderr, c.want)
			require.Empty(t, stdout)
			require.NotContains(t, stderr, "shrink: workers")
		})
	}
}

func TestHelpShrinkExplainsWhatStillFailsMeans(t *testing.T) {
	code, stdout, _ := call(t, "help", "shrink")
	require.Equal(t, ExitOK, code)
	for _, want := range []string{"fewer workers", "replay token", "-property",
		"-out", "dedupsim run FILE"} {
		require.Contains(t, strings.ReplaceAll(stdout, "\n", " "), want)
	}
	code, stdout, _ = call(t, "help")
	require.Equal(t, ExitOK, code)
	require.Contains(t, stdout, "shrink    reduce a failing scenario")
}
