package queue

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("a config without a pool is refused", func(t *testing.T) {
		_, err := New(Config{})
		require.ErrorIs(t, err, ErrNoPool)
	})
	t.Run("a negative attempt count is refused", func(t *testing.T) {
		_, err := New(Config{DB: newDB(t), MaxAttempts: -1})
		require.ErrorIs(t, err, ErrInvalidConfig)
	})
	t.Run("the default backoff doubles from one second", func(t *testing.T) {
		got := []time.Duration{
			DefaultBackoff(1), DefaultBackoff(2), DefaultBackoff(3),
		}
		want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
		require.Equal(t, want, got)
		require.Positive(t, DefaultBackoff(1000))
	})
}

func TestEnqueueTakeComplete(t *testing.T) {
	t.Parallel()
	clk := newClock()
	q := newQueue(t, Config{Now: clk.Now})
	requireNoneReady(t, q)

	id := enqueue(t, q, "hello", time.Time{})
	l := take(t, q)
	require.Equal(t, id, l.ID)
	require.Equal(t, "test", l.Kind)
	require.Equal(t, []byte("hello"), l.Payload)
	require.Equal(t, 1, l.Attempt)
	require.True(t, clk.Now().Equal(l.RunAt))
	require.NotZero(t, l.PID)

	// Leased, the job is still remaining but neither ready nor next.
	requireNoneReady(t, q)
	requireCounts(t, q, 1, time.Time{})

	require.NoError(t, l.Complete(t.Context()))
	requireNoneReady(t, q)
	requireCounts(t, q, 0, time.Time{})

	require.ErrorIs(t, l.Complete(t.Context()), ErrLeaseEnded)
	_, err := l.Fail(t.Context(), errors.New("late"))
	require.ErrorIs(t, err, ErrLeaseEnded)
	l.Release()
	l.Release()
}

func TestTakeOrder(t *testing.T) {
	t.Parallel()
	clk := newClock()
	q := newQueue(t, Config{Now: clk.Now})
	t0 := clk.Now()

	late := enqueue(t, q, "late", t0.Add(-time.Second))
	tie1 := enqueue(t, q, "tie1", t0.Add(-2*time.Second))
	tie2 := enqueue(t, q, "tie2", t0.Add(-2*time.Second))
	early := enqueue(t, q, "early", t0.Add(-3*time.Second))
	future := enqueue(t, q, "future", t0.Add(time.Second))

	var got []int64
	for range 4 {
		got = append(got, take(t, q).ID)
	}
	require.Equal(t, []int64{early, tie1, tie2, late}, got)
	requireNoneReady(t, q)

	clk.Advance(time.Second)
	require.Equal(t, future, take(t, q).ID)
}

func TestQueuesAreSeparate(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	a := newQueue(t, Config{DB: db, Queue: "a"})
	b := newQueue(t, Config{DB: db, Queue: "b"})

	id := enqueue(t, a, "for a", time.Time{})
	requireNoneReady(t, b)
	requireCounts(t, b, 0, time.Time{})
	require.Equal(t, id, take(t, a).ID)
}

func TestConcurrentTakesNeverShareAJob(t *testing.T) {
	t.Parallel()
	const jobs, workers = 300, 12
	q := newQueue(t, Config{})
	want := make(map[int64]int, jobs)
	for range jobs {
		want[enqueue(t, q, "job", time.Time{})] = 1
	}

	var (
		mu   sync.Mutex
		seen = make(map[int64]int, jobs)
		errs []error
		wg   sync.WaitGroup
	)
	work := func() error {
		// Take finds nothing only when every remaining job is leased by a
		// worker that will complete it.
		for {
			l, err := q.Take(t.Context())
			if err != nil || l == nil {
				return err
			}
			mu.Lock()
			seen[l.ID]++
			mu.Unlock()
			if err := l.Complete(t.Context()); err != nil {
				return err
			}
		}
	}
	for range workers {
		wg.Go(func() {
			if err := work(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	require.Empty(t, errs)
	require.Equal(t, want, seen, "jobs processed, by id")
	requireCounts(t, q, 0, time.Time{})
}

func TestFailRetriesWithBackoffThenBuries(t *testing.T) {
	t.Parallel()
	clk := newClock()
	q := newQueue(t, Config{Now: clk.Now})
	id := enqueue(t, q, "flaky", time.Time{})

	for attempt := 1; attempt < DefaultMaxAttempts; attempt++ {
		l := take(t, q)
		require.Equal(t, id, l.ID)
		require.Equal(t, attempt, l.Attempt)
		retried, err := l.Fail(t.Context(), errors.New("boom"))
		require.NoError(t, err)
		require.True(t, retried)

		// The retry is due exactly Backoff(attempt) from now.
		due := clk.Now().Add(DefaultBackoff(attempt))
		requireCounts(t, q, 1, due)
		clk.Advance(DefaultBackoff(attempt) - time.Microsecond)
		requireNoneReady(t, q)
		clk.Advance(time.Microsecond)
	}

	l := take(t, q)
	require.Equal(t, DefaultMaxAttempts, l.Attempt)
	retried, err := l.Fail(t.Context(), errors.New("boom at last"))
	require.NoError(t, err)
	require.False(t, retried)

	requireNoneReady(t, q)
	requireCounts(t, q, 0, time.Time{})
	dead, err := q.Dead(t.Context())
	require.NoError(t, err)
	require.Equal(t, []DeadJob{{
		ID: id, Kind: "test", Payload: []byte("flaky"),
		Attempts: DefaultMaxAttempts, Error: "boom at last",
		DiedAt: clk.Now(),
	}}, normalize(dead))
}

// normalize puts the times of dead jobs in UTC, for comparison.
func normalize(dead []DeadJob) []DeadJob {
	for i := range dead {
		dead[i].DiedAt = dead[i].DiedAt.UTC()
	}
	return dead
}

func TestFailUsesConfiguredBackoffAndAttempts(t *testing.T) {
	t.Parallel()
	clk := newClock()
	backoff := func(attempt int) time.Duration {
		return time.Duration(attempt) * time.Hour
	}
	q := newQueue(t, Config{Now: clk.Now, MaxAttempts: 2, Backoff: backoff})
	enqueue(t, q, "x", time.Time{})

	retried, err := take(t, q).Fail(t.Context(), nil)
	require.NoError(t, err)
	require.True(t, retried)
	requireCounts(t, q, 1, clk.Now().Add(time.Hour))

	clk.Advance(time.Hour)
	retried, err = take(t, q).Fail(t.Context(), errors.New("again"))
	require.NoError(t, err)
	require.False(t, retried)
	requireCounts(t, q, 0, time.Time{})
}

func TestCrashedLeaseIsRedelivered(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	q := newQueue(t, Config{DB: db})
	id := enqueue(t, q, "crash", time.Time{})
	crashed := take(t, q)

	// Kill the lease's backend from another connection, as when the
	// worker's process or host dies.
	start := time.Now()
	var ok bool
	err := db.QueryRow(t.Context(), `SELECT pg_terminate_backend($1)`,
		int64(crashed.PID)).Scan(&ok)
	require.NoError(t, err)
	require.True(t, ok, "pg_terminate_backend")

	poll(t, 5*time.Second, time.Millisecond, func() (bool, error) {
		alive, err := backendAlive(t.Context(), db, crashed.PID)
		return !alive, err
	}, "backend gone from pg_stat_activity")

	again := takeWithin(t, q, time.Second)
	took := time.Since(start)
	require.Less(t, took, time.Second)
	t.Logf("redelivered %v after pg_terminate_backend", took)

	// Nothing was recorded: the same attempt, on a new connection.
	require.Equal(t, id, again.ID)
	require.Equal(t, 1, again.Attempt)
	require.NotEqual(t, crashed.PID, again.PID)

	// The dead lease cannot complete, and ending it is harmless.
	require.Error(t, crashed.Complete(t.Context()))
	crashed.Release()
	require.NoError(t, again.Complete(t.Context()))
	requireCounts(t, q, 0, time.Time{})
}

func TestReleasedLeaseIsRedelivered(t *testing.T) {
	t.Parallel()
	clk := newClock()
	q := newQueue(t, Config{Now: clk.Now})
	id := enqueue(t, q, "released", time.Time{})

	l := take(t, q)
	retried, err := l.Fail(t.Context(), errors.New("first"))
	require.NoError(t, err)
	require.True(t, retried)
	clk.Advance(DefaultBackoff(1))

	l = take(t, q)
	require.Equal(t, 2, l.Attempt)
	l.Release()

	// Postgres ends the transaction once it sees the socket close.
	again := takeWithin(t, q, time.Second)
	require.Equal(t, id, again.ID)
	require.Equal(t, 2, again.Attempt)
}

func TestRemainingAndNextRunAtFollowTheJobs(t *testing.T) {
	t.Parallel()
	clk := newClock()
	q := newQueue(t, Config{Now: clk.Now, MaxAttempts: 2})
	t0 := clk.Now()
	requireCounts(t, q, 0, time.Time{})

	enqueue(t, q, "now", t0)
	enqueue(t, q, "later", t0.Add(time.Minute))
	requireCounts(t, q, 2, t0)

	first := take(t, q)
	requireCounts(t, q, 2, t0.Add(time.Minute))

	// A failed attempt at t0 is due again at t0+1s, before "later".
	_, err := first.Fail(t.Context(), errors.New("once"))
	require.NoError(t, err)
	requireCounts(t, q, 2, t0.Add(time.Second))

	clk.Advance(time.Second)
	retry := take(t, q)
	requireCounts(t, q, 2, t0.Add(time.Minute))
	_, err = retry.Fail(t.Context(), errors.New("twice"))
	require.NoError(t, err)
	requireCounts(t, q, 1, t0.Add(time.Minute))

	clk.Advance(time.Minute)
	require.NoError(t, take(t, q).Complete(t.Context()))
	requireCounts(t, q, 0, time.Time{})
}
