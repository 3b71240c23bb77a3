package lockwait_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/sim/lockwait"
)

// simPoll is the pause between the simulator's lock-watcher rounds (poll
// in sim/execute.go): a wait begins at any moment of a round.
const simPoll = 2 * time.Millisecond

// watcher polls Blockers for one backend round after round, as the
// simulator's lock watcher does, and reports the first round that sees the
// backend wait once it is armed.
type watcher struct {
	db    *pgxpool.Pool
	pid   uint32
	every time.Duration

	mu       sync.Mutex
	round    int // rounds started so far
	armed    bool
	armRound int // the round under way when armed
	polls    int // rounds from arming to the report
	seen     chan time.Time
	err      error
}

func (w *watcher) run(ctx context.Context) {
	for {
		if w.every > 0 {
			t := time.NewTimer(w.every)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		} else if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		w.round++
		r := w.round
		w.mu.Unlock()
		got, err := lockwait.Blockers(ctx, w.db, []uint32{w.pid})
		if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		if err != nil && w.err == nil {
			w.err = err
		}
		// A round that began before arming may have looked before the
		// wait, or at the last one: only later rounds count.
		if w.armed && r > w.armRound && len(got[w.pid]) > 0 {
			w.armed = false
			w.polls = r - w.armRound
			w.seen <- time.Now()
		}
		w.mu.Unlock()
	}
}

// arm makes the next round that sees the backend wait report it.
func (w *watcher) arm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed, w.armRound = true, w.round
}

// lockKind takes a lock in a transaction and waits for the same lock.
type lockKind struct {
	name string
	// hold runs in the holder's transaction; wait in the waiter's
	// autocommit session, which blocks until the holder ends.
	hold, wait string
}

var lockKinds = []lockKind{
	// A unique key inserted and not yet committed, as db-unique's second
	// copy meets it.
	{"row", `INSERT INTO t VALUES ($1)`,
		`INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING`},
	// A transaction-level advisory lock, as the advisory guard takes.
	{"advisory", `SELECT pg_advisory_xact_lock(7, $1::int4)`,
		`SELECT pg_advisory_xact_lock(7, $1::int4)`},
}

// BenchmarkLockWaitDetection measures how soon a watcher polling Blockers
// sees a backend blocked on another's lock: from the moment the blocking
// statement is issued to the watcher's report (ns/detect), for a row and
// an advisory lock, with the simulator's pause between rounds and with
// none (each round right after the last: the floor Blockers' own query
// sets). polls/detect counts the rounds from the statement to the report;
// ns/op also holds each op's setup and its release of the lock.
func BenchmarkLockWaitDetection(b *testing.B) {
	for _, lk := range lockKinds {
		for _, every := range []time.Duration{simPoll, 0} {
			b.Run("lock="+lk.name+"/poll="+every.String(), func(b *testing.B) {
				detect(b, lk, every)
			})
		}
	}
}

func detect(b *testing.B, lk lockKind, every time.Duration) {
	run := testenv.Run(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, err := run.DB.Exec(ctx, `CREATE TABLE t (id int PRIMARY KEY)`)
	require.NoError(b, err)

	holder, err := run.DB.Acquire(ctx)
	require.NoError(b, err)
	defer holder.Release()
	waiter, err := run.DB.Acquire(ctx)
	require.NoError(b, err)
	defer waiter.Release()

	w := &watcher{db: run.DB, pid: waiter.Conn().PgConn().PID(), every: every,
		seen: make(chan time.Time, 1)}
	watchCtx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { w.run(watchCtx) })
	defer wg.Wait()
	defer stopWatch()

	// Each wait starts at its own moment of the watcher's round, as a
	// worker's would, not in step with the last report.
	rng := rand.New(rand.NewPCG(1, uint64(every)))
	var total time.Duration
	polls := 0
	for key := 1; b.Loop(); key++ {
		tx, err := holder.Begin(ctx)
		require.NoError(b, err)
		_, err = tx.Exec(ctx, lk.hold, key)
		require.NoError(b, err)
		if every > 0 {
			time.Sleep(time.Duration(rng.Int64N(int64(every))))
		}

		w.arm()
		done := make(chan error, 1)
		issued := time.Now()
		go func() {
			_, err := waiter.Exec(ctx, lk.wait, key)
			done <- err
		}()
		var seenAt time.Time
		select {
		case seenAt = <-w.seen:
		case <-time.After(10 * time.Second):
			w.mu.Lock()
			werr := w.err
			w.mu.Unlock()
			b.Fatalf("the wait of key %d was not seen in 10s (watcher error: %v)",
				key, werr)
		}
		total += seenAt.Sub(issued)
		w.mu.Lock()
		polls += w.polls
		w.mu.Unlock()

		require.NoError(b, tx.Commit(ctx))
		require.NoError(b, <-done)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/detect")
	b.ReportMetric(float64(polls)/float64(b.N), "polls/detect")
}
