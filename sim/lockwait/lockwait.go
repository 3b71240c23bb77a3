// Package lockwait sees which Postgres backends wait for a lock that
// another backend holds. The simulator uses it to tell a worker blocked on
// another worker's row or advisory lock from one that is merely slow.
package lockwait

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Blockers returns, for each of pids that waits for a lock, the backends
// that hold it. A backend in a slow query that waits for no lock is not in
// the result. It reads pg_stat_activity through db in autocommit, since
// the view is a snapshot per transaction.
func Blockers(ctx context.Context, db *pgxpool.Pool, pids []uint32) (map[uint32][]uint32, error) {
	if len(pids) == 0 {
		return nil, nil
	}
	ids := make([]int32, len(pids))
	for i, p := range pids {
		ids[i] = int32(p)
	}
	rows, err := db.Query(ctx, `SELECT pid, pg_blocking_pids(pid)
		FROM pg_stat_activity
		WHERE pid = ANY($1::int4[]) AND cardinality(pg_blocking_pids(pid)) > 0`, ids)
	if err != nil {
		return nil, fmt.Errorf("read lock waits: %w", err)
	}
	defer rows.Close()
	out := map[uint32][]uint32{}
	for rows.Next() {
		var pid int32
		var holders []int32
		if err := rows.Scan(&pid, &holders); err != nil {
			return nil, fmt.Errorf("read lock waits: %w", err)
		}
		for _, h := range holders {
			out[uint32(pid)] = append(out[uint32(pid)], uint32(h))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read lock waits: %w", err)
	}
	return out, nil
}
