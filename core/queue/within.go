package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier is what EnqueueIn writes through: a pool, a connection or a
// transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// EnqueueIn adds a job as Enqueue does, through db. Given a transaction,
// the job commits or rolls back with it: a receiver can make every job of
// one request durable at once, or none.
func (q *Queue) EnqueueIn(ctx context.Context, db Querier, kind string,
	payload []byte, runAt time.Time) (int64, error) {
	const stmt = `
		INSERT INTO jobs (queue, kind, payload, run_at, created_at)
		VALUES ($1, $2, $3, $4, $5)
		RETURNING id`

	now := q.cfg.Now()
	if runAt.IsZero() {
		runAt = now
	}
	if payload == nil {
		payload = []byte{}
	}
	var id int64
	err := db.QueryRow(ctx, stmt, q.cfg.Queue, kind, payload, runAt, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s job: %w", kind, err)
	}
	return id, nil
}

// Job is one row of the queue, whatever its state.
type Job struct {
	ID      int64
	Kind    string
	Payload []byte
	// State is "pending", "done" or "dead".
	State string
	// Attempts counts the failed attempts recorded.
	Attempts int
}

// List returns every job of the queue by id: pending, done and dead.
func (q *Queue) List(ctx context.Context) ([]Job, error) {
	const stmt = `
		SELECT id, kind, payload, state, attempts
		FROM jobs WHERE queue = $1 ORDER BY id`

	rows, err := q.cfg.DB.Query(ctx, stmt, q.cfg.Queue)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Job])
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return jobs, nil
}
