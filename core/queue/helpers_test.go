package queue

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/internal/testenv"
)

// clock is a settable clock for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// newClock returns a clock that stands still at a fixed time until
// advanced.
func newClock() *clock {
	return &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newDB returns a pool on a fresh, migrated database.
func newDB(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return testenv.Run(tb).DB
}

// newQueue returns a queue on cfg, on a fresh database unless cfg.DB is set.
func newQueue(tb testing.TB, cfg Config) *Queue {
	tb.Helper()
	if cfg.DB == nil {
		cfg.DB = newDB(tb)
	}
	q, err := New(cfg)
	require.NoError(tb, err)
	return q
}

// enqueue adds a job of kind "test" with payload p, due at runAt.
func enqueue(tb testing.TB, q *Queue, p string, runAt time.Time) int64 {
	tb.Helper()
	id, err := q.Enqueue(tb.Context(), "test", []byte(p), runAt)
	require.NoError(tb, err)
	return id
}

// take leases a job and requires there was one. The lease is released when
// the test ends, if still open.
func take(tb testing.TB, q *Queue) *Lease {
	tb.Helper()
	l, err := q.Take(tb.Context())
	require.NoError(tb, err)
	require.NotNil(tb, l, "no job ready")
	tb.Cleanup(l.Release)
	return l
}

// requireNoneReady requires that Take finds nothing.
func requireNoneReady(tb testing.TB, q *Queue) {
	tb.Helper()
	l, err := q.Take(tb.Context())
	require.NoError(tb, err)
	if l != nil {
		l.Release()
	}
	require.Nil(tb, l, "a job was ready")
}

// requireCounts requires Remaining to be n and NextRunAt to be next, where
// a zero next means none.
func requireCounts(tb testing.TB, q *Queue, n int, next time.Time) {
	tb.Helper()
	got, err := q.Remaining(tb.Context())
	require.NoError(tb, err)
	require.Equal(tb, n, got, "remaining")

	at, ok, err := q.NextRunAt(tb.Context())
	require.NoError(tb, err)
	require.Equal(tb, !next.IsZero(), ok, "next run time found")
	if ok {
		require.True(tb, next.Equal(at), "next run at %v, want %v", at, next)
	}
}

// backendAlive reports whether pg_stat_activity lists the backend pid.
func backendAlive(ctx context.Context, db *pgxpool.Pool, pid uint32) (bool, error) {
	var n int
	err := db.QueryRow(ctx,
		`SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, int64(pid)).
		Scan(&n)
	return n > 0, err
}

// poll calls cond every tick until it reports done, and fails the test when
// cond fails or limit passes first. It returns how long it took.
func poll(
	tb testing.TB, limit, tick time.Duration, cond func() (bool, error),
	what string,
) time.Duration {
	tb.Helper()
	start := time.Now()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()

	for {
		done, err := cond()
		require.NoError(tb, err)
		if done {
			return time.Since(start)
		}
		select {
		case <-deadline.C:
			require.FailNow(tb, "timed out", "%s within %v", what, limit)
		case <-ticker.C:
		}
	}
}

// takeWithin polls Take until it leases a job, for at most limit. The
// lease is released when the test ends, if still open.
func takeWithin(tb testing.TB, q *Queue, limit time.Duration) *Lease {
	tb.Helper()
	var l *Lease
	poll(tb, limit, time.Millisecond, func() (bool, error) {
		var err error
		l, err = q.Take(tb.Context())
		return l != nil, err
	}, "take a job")
	tb.Cleanup(l.Release)
	return l
}
