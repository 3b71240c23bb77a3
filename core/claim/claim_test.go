package claim_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// call prepares an inbox and a call for message "wamid.T1".
func call(tb testing.TB, owner string) (*claim.Call, context.Context) {
	tb.Helper()
	run := testenv.Run(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	in, err := store.CreateInbox(ctx, run.DB, "support", "200")
	require.NoError(tb, err)
	return &claim.Call{DB: run.DB, Redis: run.Redis, KeyPrefix: run.KeyPrefix,
		Inbox: in, SourceID: "wamid.T1", Owner: owner}, ctx
}

// twin is c for another worker.
func twin(c *claim.Call, owner string) *claim.Call {
	t := *c
	t.Owner = owner
	return &t
}

func TestSetNXLetsOneCopyThroughAndNeverReleases(t *testing.T) {
	c, ctx := call(t, "W1")
	s := claim.SetNX{}
	ok, err := s.Claim(ctx, c)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.Claim(ctx, twin(c, "W2"))
	require.NoError(t, err)
	require.False(t, ok, "the second copy is refused")

	require.NoError(t, s.Abandon(ctx, c))
	ttl, err := c.Redis.TTL(ctx, c.Key()).Result()
	require.NoError(t, err)
	require.InDelta(t, claim.KeyTTL, ttl.Seconds(), 5, "the key stays for a day")
}

func TestSetNXReleaseFreesTheClaimOnlyForItsOwner(t *testing.T) {
	c, ctx := call(t, "W1")
	s := claim.SetNXRelease{}
	ok, err := s.Claim(ctx, c)
	require.NoError(t, err)
	require.True(t, ok)

	other := twin(c, "W2")
	ok, err = s.Claim(ctx, other)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, s.Abandon(ctx, other), "a refused copy holds nothing to release")
	require.Equal(t, int64(1), c.Redis.Exists(ctx, c.Key()).Val())

	n, err := claim.ReleaseIfOwner(ctx, c.Redis, c.Key(), "W2")
	require.NoError(t, err)
	require.Zero(t, n, "not W2's to release")
	require.NoError(t, s.Abandon(ctx, c))
	require.Zero(t, c.Redis.Exists(ctx, c.Key()).Val())
}

func TestLegacyChecksThenSetsInSeparateSteps(t *testing.T) {
	c, ctx := call(t, "W1")
	s := claim.Legacy{}
	ok, err := s.Claim(ctx, c)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.Claim(ctx, twin(c, "W2"))
	require.NoError(t, err)
	require.False(t, ok, "a later copy finds the key")

	require.NoError(t, s.BeforeCommit(ctx, c))
	ok, err = s.Claim(ctx, twin(c, "W3"))
	require.NoError(t, err)
	require.True(t, ok, "after the DEL and before the COMMIT nothing stops a copy")
}

func TestEveryStrategyHasANameNewKnows(t *testing.T) {
	for _, name := range claim.Names() {
		s, err := claim.New(name)
		require.NoError(t, err)
		require.Equal(t, name, s.Name())
	}
	_, err := claim.New("nope")
	require.ErrorIs(t, err, claim.ErrUnknownStrategy)
}
