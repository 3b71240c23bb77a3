package lockwait_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/sim/lockwait"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestAWorkerWaitingForARowLockIsSeenWithItsHolder(t *testing.T) {
	run := testenv.Run(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := run.DB.Exec(ctx, `CREATE TABLE t (id int PRIMARY KEY)`)
	require.NoError(t, err)

	holder, err := run.DB.Acquire(ctx)
	require.NoError(t, err)
	defer holder.Release()
	tx, err := holder.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `INSERT INTO t VALUES (1)`)
	require.NoError(t, err)

	waiter, err := run.DB.Acquire(ctx)
	require.NoError(t, err)
	defer waiter.Release()
	done := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(ctx, `INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING`)
		done <- err
	}()

	holderPID, waiterPID := holder.Conn().PgConn().PID(), waiter.Conn().PgConn().PID()
	var seen map[uint32][]uint32
	require.Eventually(t, func() bool {
		seen, err = lockwait.Blockers(ctx, run.DB, []uint32{waiterPID, holderPID})
		return err == nil && len(seen) > 0
	}, 5*time.Second, time.Millisecond)
	require.Equal(t, map[uint32][]uint32{waiterPID: {holderPID}}, seen)

	require.NoError(t, tx.Commit(ctx))
	require.NoError(t, <-done)
}

func TestASlowQueryThatWaitsOnNoLockIsNotBlocked(t *testing.T) {
	run := testenv.Run(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	slow, err := run.DB.Acquire(ctx)
	require.NoError(t, err)
	defer slow.Release()
	pid := slow.Conn().PgConn().PID()
	done := make(chan error, 1)
	go func() {
		_, err := slow.Exec(ctx, `SELECT pg_sleep(0.3)`)
		done <- err
	}()

	// Look while the query runs: it is active, and blocked by nobody.
	require.Eventually(t, func() bool {
		var state string
		err := run.DB.QueryRow(ctx, `SELECT state FROM pg_stat_activity
			WHERE pid = $1`, int32(pid)).Scan(&state)
		return err == nil && state == "active"
	}, 5*time.Second, time.Millisecond)
	seen, err := lockwait.Blockers(ctx, run.DB, []uint32{pid})
	require.NoError(t, err)
	require.Empty(t, seen)
	require.NoError(t, <-done)
}
