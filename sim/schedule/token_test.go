package schedule

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestATokenWithNoStepsIsRefused(t *testing.T) {
	_, err := ParseToken(Token{Config: "legacy", Scheduler: "script"}.Encode())
	require.ErrorIs(t, err, ErrToken)
	require.EqualError(t, err, "bad replay token: it has no steps")
}

func TestATokenWhoseSchedulerCannotBeReadIsRefused(t *testing.T) {
	steps := []ScriptStep{{Worker: "W1", At: "job.fetch"}}
	for _, s := range []string{"", "fifo", "replay of ", "replay of fifo seed=1",
		"pct depth", "pct depth=two", "pct =2", "pct  depth=2", "pct depth=2 "} {
		_, err := ParseToken(Token{Config: "legacy", Scheduler: s, Steps: steps}.Encode())
		require.ErrorIs(t, err, ErrToken, s)
		require.ErrorContains(t, err, "scheduler", s)
	}
	_, err := ParseToken(Token{Config: "legacy", Scheduler: "fifo", Steps: steps}.Encode())
	require.EqualError(t, err, `bad replay token: scheduler "fifo": unknown kind "fifo" `+
		"(known: script, random, pct, exhaustive)")
	_, err = ParseToken(Token{Config: "legacy", Scheduler: "pct depth", Steps: steps}.Encode())
	require.EqualError(t, err, `bad replay token: scheduler "pct depth": setting "depth" `+
		"is not name=number")
}

func TestATokenKeepsSettingsAReplayDoesNotUse(t *testing.T) {
	steps := []ScriptStep{{Worker: "W1", At: "job.fetch"}}
	for _, s := range []string{"script", "pct depth=99", "random seed=-3 run=2",
		"exhaustive run=5", "pct depth=2 k=32 seed=1 run=4",
		"replay of shrunk from replay of pct depth=2 k=32 seed=1 run=4"} {
		tok := Token{Config: "legacy", Scheduler: s, Steps: steps}
		got, err := ParseToken(tok.Encode())
		require.NoError(t, err, s)
		require.Equal(t, tok, got)
	}
}
