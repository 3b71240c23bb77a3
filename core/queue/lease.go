package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrLeaseEnded means the lease was already completed, failed or released.
var ErrLeaseEnded = errors.New("lease already ended")

// Lease is a job taken by one worker. The job stays locked until the lease
// ends with Complete, Fail or Release, or its connection dies.
type Lease struct {
	ID      int64
	Kind    string
	Payload []byte
	Attempt int       // the attempt this lease makes, from 1; see Fail
	RunAt   time.Time // when the job became due
	PID     uint32    // the backend pid of the lease's connection

	q    *Queue
	mu   sync.Mutex
	conn *pgxpool.Conn // nil once the lease has ended
	tx   pgx.Tx
}

// Complete marks the job done. If Complete fails, the lease ends as if its
// worker had crashed and the job stays pending.
func (l *Lease) Complete(ctx context.Context) error {
	const stmt = `
		UPDATE jobs SET state = 'done', finished_at = $2 WHERE id = $1`

	if err := l.end(ctx, stmt, l.ID, l.q.cfg.Now()); err != nil {
		return fmt.Errorf("complete job %d: %w", l.ID, err)
	}
	return nil
}

// Fail records the failed attempt with cause, which may be nil; only Fail
// moves a job on to its next attempt, a crash does not. While attempts
// remain, the job is due again Backoff(Attempt) from now and retried is
// true; otherwise the job is dead. If Fail returns an error, the lease ends
// as if its worker had crashed and nothing is recorded.
func (l *Lease) Fail(ctx context.Context, cause error) (retried bool, err error) {
	const retry = `
		UPDATE jobs SET attempts = attempts + 1, run_at = $2, last_error = $3
		WHERE id = $1`
	const bury = `
		UPDATE jobs SET attempts = attempts + 1, last_error = $2,
		       state = 'dead', finished_at = $3
		WHERE id = $1`

	now, text := l.q.cfg.Now(), errorText(cause)
	retried = l.Attempt < l.q.cfg.MaxAttempts
	if retried {
		err = l.end(ctx, retry, l.ID, now.Add(l.q.cfg.Backoff(l.Attempt)), text)
	} else {
		err = l.end(ctx, bury, l.ID, text, now)
	}
	if err != nil {
		return false, fmt.Errorf("fail job %d: %w", l.ID, err)
	}
	return retried, nil
}

// Release ends the lease without recording anything, as a dying worker
// does: it drops the connection, and Postgres rolls the transaction back.
// It does nothing once the lease has ended.
func (l *Lease) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		l.drop()
	}
}

// end runs stmt in the lease's transaction and commits. On error it drops
// the connection, so the transaction is rolled back.
func (l *Lease) end(ctx context.Context, stmt string, args ...any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return ErrLeaseEnded
	}

	_, err := l.tx.Exec(ctx, stmt, args...)
	if err == nil {
		err = l.tx.Commit(ctx)
	}
	if err != nil {
		l.drop()
		return err
	}
	l.conn.Release()
	l.conn, l.tx = nil, nil
	return nil
}

// drop closes the lease's connection at once, without ending its
// transaction, and keeps the connection out of the pool.
func (l *Lease) drop() {
	pc := l.conn.Hijack().PgConn()
	_ = pc.Conn().Close() // the socket goes first, as when a process dies
	_ = pc.Close(context.Background())
	l.conn, l.tx = nil, nil
}

// errorText is the text stored for a failed attempt's cause.
func errorText(cause error) string {
	if cause == nil {
		return ""
	}
	return cause.Error()
}
