package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/sim/backend"
)

// Contract holds b to what package backend promises of every run.
func Contract(t *testing.T, b backend.Backend) {
	t.Run("a run starts with the flow's tables, empty", func(t *testing.T) {
		r := NewRun(t, b)
		for _, table := range []string{"messages", "jobs", "webhook_events"} {
			var n int
			err := r.DB.QueryRow(Context(t), "SELECT count(*) FROM "+table).Scan(&n)
			require.NoError(t, err, table)
			require.Zero(t, n, table)
		}
	})
	t.Run("two runs share no rows and no key prefix", func(t *testing.T) {
		twoRunsAreApart(t, b)
	})
	t.Run("a strategy's index lands in its own run only", func(t *testing.T) {
		indexStaysInItsRun(t, b)
	})
	t.Run("closing a run deletes its keys only, and twice is safe", func(t *testing.T) {
		closeDeletesOnlyItsKeys(t, b)
	})
	t.Run("fast forward shortens the run's TTLs", func(t *testing.T) {
		fastForwardExpires(t, b)
	})
}

// NewRun starts a run on b, closed when the test ends.
func NewRun(tb testing.TB, b backend.Backend) *backend.Run {
	tb.Helper()
	r, err := b.NewRun(Context(tb), backend.RunOptions{MaxConns: 8})
	require.NoError(tb, err, "new run on %s", b.Name())
	tb.Cleanup(func() {
		require.NoError(tb, r.Close(context.Background()), "close run %s", r.ID)
	})
	return r
}

func twoRunsAreApart(t *testing.T, b backend.Backend) {
	ctx := Context(t)
	a, c := NewRun(t, b), NewRun(t, b)
	require.NotEqual(t, a.ID, c.ID)
	require.NotEqual(t, a.KeyPrefix, c.KeyPrefix)
	require.NotContains(t, a.KeyPrefix, c.KeyPrefix)
	require.NotContains(t, c.KeyPrefix, a.KeyPrefix)

	_, err := a.DB.Exec(ctx, "INSERT INTO accounts (name) VALUES ('a')")
	require.NoError(t, err)
	var n int
	require.NoError(t, c.DB.QueryRow(ctx, "SELECT count(*) FROM accounts").Scan(&n))
	require.Zero(t, n, "run %s sees run %s's row", c.ID, a.ID)
}

func indexStaysInItsRun(t *testing.T, b backend.Backend) {
	ctx := Context(t)
	a, c := NewRun(t, b), NewRun(t, b)
	st, err := claim.New("db-unique")
	require.NoError(t, err)
	require.NoError(t, st.Setup(ctx, a.DB))

	const q = "SELECT to_regclass('messages_source_part_key') IS NOT NULL"
	var has bool
	require.NoError(t, a.DB.QueryRow(ctx, q).Scan(&has))
	require.True(t, has, "the index is not where run %s looks", a.ID)
	require.NoError(t, c.DB.QueryRow(ctx, q).Scan(&has))
	require.False(t, has, "run %s sees run %s's index", c.ID, a.ID)
}

func closeDeletesOnlyItsKeys(t *testing.T, b backend.Backend) {
	ctx := Context(t)
	gone, kept := NewRun(t, b), NewRun(t, b)
	require.NoError(t, gone.Redis.Set(ctx, gone.KeyPrefix+"k", "v", 0).Err())
	require.NoError(t, kept.Redis.Set(ctx, kept.KeyPrefix+"k", "v", 0).Err())

	require.NoError(t, gone.Close(ctx))
	require.NoError(t, gone.Close(ctx), "a second Close")
	n, err := kept.Redis.Exists(ctx, gone.KeyPrefix+"k").Result()
	require.NoError(t, err)
	require.Zero(t, n, "a closed run's key is still there")
	n, err = kept.Redis.Exists(ctx, kept.KeyPrefix+"k").Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "closing one run deleted another's key")
}

func fastForwardExpires(t *testing.T, b backend.Backend) {
	ctx := Context(t)
	r := NewRun(t, b)
	if r.FastForward == nil {
		t.Skipf("backend %s cannot fast forward", b.Name())
	}
	key, forever := r.KeyPrefix+"claim", r.KeyPrefix+"forever"
	require.NoError(t, r.Redis.Set(ctx, key, "v", time.Hour).Err())
	require.NoError(t, r.Redis.Set(ctx, forever, "v", 0).Err())

	require.NoError(t, r.FastForward(ctx, 59*time.Minute))
	ttl, err := r.Redis.PTTL(ctx, key).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Duration(0))
	require.LessOrEqual(t, ttl, time.Minute)

	require.NoError(t, r.FastForward(ctx, 2*time.Minute))
	n, err := r.Redis.Exists(ctx, key, forever).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the claim should be gone, the key "+
		"without a TTL still there")
	require.Error(t, r.FastForward(ctx, -time.Second))
}
