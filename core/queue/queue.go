// Package queue is a durable job queue in Postgres, with retries and
// backoff, that redelivers the job of a crashed worker as soon as Postgres
// notices the worker's connection is gone.
//
// A worker leases a job by locking its row with SELECT ... FOR UPDATE SKIP
// LOCKED in a transaction it keeps open, on a connection of its own, for as
// long as it works on the job. Complete and Fail write the outcome and
// commit. A worker that dies writes nothing: Postgres rolls its transaction
// back when the connection ends, the row lock goes with it, and the next
// Take finds the job. There is no rescuer and no visibility timeout.
//
// Existing queues do not fit: river commits a job as running and leaves
// crashed jobs to a periodic rescuer; gue holds the row lock the same way
// but reads time.Now itself, so a simulated clock cannot drive its backoff,
// and it keeps no dead jobs.
//
// # Attempts and crashes
//
// A lease's Attempt is one more than the failures recorded for its job. Fail
// records one; a crash records nothing, since everything the lease wrote is
// rolled back with it. A job redelivered after a crash therefore carries the
// same Attempt as before, and MaxAttempts bounds errors, not crashes: a job
// that kills every worker that takes it is redelivered without end. Counting
// leases would take a write committed outside the lease's transaction, and
// a crash between the two would still go uncounted; callers that need the
// number of deliveries count their own takes.
//
// A worker that hangs, rather than dies, keeps its job. Bound the work with
// ctx, or set idle_in_transaction_session_timeout on the pool's connections.
//
// # Time
//
// Every time the queue writes or compares comes from Config.Now, never from
// the database's now(), so a simulated clock drives backoff and run_at.
package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNoPool means Config.DB is nil.
var ErrNoPool = errors.New("no database pool")

// ErrInvalidConfig means a Config field holds a value out of its range.
var ErrInvalidConfig = errors.New("invalid queue config")

// DefaultQueue is the queue name used when Config.Queue is empty.
const DefaultQueue = "default"

// DefaultMaxAttempts is the number of attempts used when Config.MaxAttempts
// is zero: the first try and three retries.
const DefaultMaxAttempts = 4

// Config configures a Queue.
type Config struct {
	// DB is the pool the queue works through. Required. Each lease holds
	// one of its connections until it ends, so the pool must be at least
	// as large as the number of jobs worked on at once.
	DB *pgxpool.Pool

	// Now is the queue's clock. Default time.Now.
	Now func() time.Time

	// MaxAttempts is how many times a job is tried before it is dead.
	// Default DefaultMaxAttempts.
	MaxAttempts int

	// Backoff gives the delay before attempt n+1 after attempt n failed.
	// Default DefaultBackoff.
	Backoff func(attempt int) time.Duration

	// Queue names the queue, so that several share the jobs table.
	// Default DefaultQueue.
	Queue string
}

// DefaultBackoff waits 1s after the first attempt and doubles the wait
// after each further one, up to about 34 years.
func DefaultBackoff(attempt int) time.Duration {
	shift := min(max(attempt-1, 0), 30)
	return time.Second << shift
}

// withDefaults returns c with every unset field set to its default.
func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.Queue == "" {
		c.Queue = DefaultQueue
	}
	return c
}

// validate reports the first field of c that cannot be used.
func (c Config) validate() error {
	if c.DB == nil {
		return ErrNoPool
	}
	if c.MaxAttempts < 1 {
		return fmt.Errorf("max attempts %d: %w", c.MaxAttempts, ErrInvalidConfig)
	}
	return nil
}

// Queue is a named queue in the jobs table. It is safe for concurrent use
// and owns nothing that needs closing: each Lease owns its connection.
type Queue struct {
	cfg Config
}

// New returns the queue cfg describes. The jobs table must exist (see
// core/store).
func New(cfg Config) (*Queue, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new queue: %w", err)
	}
	return &Queue{cfg: cfg}, nil
}

// Enqueue adds a job of the given kind, ready from runAt (from now when
// runAt is zero), and returns its id.
func (q *Queue) Enqueue(
	ctx context.Context, kind string, payload []byte, runAt time.Time,
) (int64, error) {
	return q.EnqueueIn(ctx, q.cfg.DB, kind, payload, runAt)
}

// Take leases the ready job that is due first (by run_at, then id), or
// returns nil when no job is ready now. It does not wait for one. The lease
// holds a pool connection until Complete, Fail or Release ends it.
func (q *Queue) Take(ctx context.Context) (*Lease, error) {
	conn, err := q.cfg.DB.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("take job: acquire connection: %w", err)
	}
	l, err := q.lock(ctx, conn)
	if err != nil || l == nil {
		conn.Release()
	}
	if err != nil {
		return nil, fmt.Errorf("take job: %w", err)
	}
	return l, nil
}

// lock begins the lease's transaction on conn and locks the next ready job
// in it. Without a ready job, or on error, it ends the transaction.
func (q *Queue) lock(ctx context.Context, conn *pgxpool.Conn) (*Lease, error) {
	const stmt = `
		SELECT id, kind, payload, attempts, run_at
		FROM jobs
		WHERE queue = $1 AND state = 'pending' AND run_at <= $2
		ORDER BY run_at, id
		LIMIT 1
		FOR UPDATE SKIP LOCKED`

	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	l := &Lease{q: q, conn: conn, tx: tx, PID: conn.Conn().PgConn().PID()}
	var failed int
	err = tx.QueryRow(ctx, stmt, q.cfg.Queue, q.cfg.Now()).
		Scan(&l.ID, &l.Kind, &l.Payload, &failed, &l.RunAt)
	if err != nil {
		_ = tx.Rollback(ctx) // a failed rollback leaves the conn to be dropped
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("lock job: %w", err)
	}
	l.Attempt = failed + 1
	return l, nil
}

// Remaining counts the jobs that are neither done nor dead: leased ones and
// pending ones, including those due later.
func (q *Queue) Remaining(ctx context.Context) (int, error) {
	const stmt = `
		SELECT count(*) FROM jobs WHERE queue = $1 AND state = 'pending'`

	var n int
	if err := q.cfg.DB.QueryRow(ctx, stmt, q.cfg.Queue).Scan(&n); err != nil {
		return 0, fmt.Errorf("count remaining jobs: %w", err)
	}
	return n, nil
}

// NextRunAt returns the earliest run_at among pending jobs that no lease
// holds, and false when there is none. A time not after Now means a job is
// ready.
func (q *Queue) NextRunAt(ctx context.Context) (time.Time, bool, error) {
	// A row lock lives in the row's xmax as the locker's transaction id;
	// the lock is held while that transaction, listed in pg_locks, runs.
	// Probing with SKIP LOCKED instead would lock rows and hide them from
	// a concurrent Take. This holds while leases are the only row locks
	// on jobs: shared locks (a foreign key to jobs, FOR SHARE) would put
	// a multixact id in xmax.
	const stmt = `
		SELECT min(run_at) FROM jobs j
		WHERE queue = $1 AND state = 'pending'
		  AND NOT EXISTS (
		      SELECT 1 FROM pg_locks l
		      WHERE l.locktype = 'transactionid'
		        AND l.transactionid = j.xmax)`

	var at pgtype.Timestamptz
	if err := q.cfg.DB.QueryRow(ctx, stmt, q.cfg.Queue).Scan(&at); err != nil {
		return time.Time{}, false, fmt.Errorf("find next run time: %w", err)
	}
	return at.Time, at.Valid, nil
}

// DeadJob is a job whose attempts ran out.
type DeadJob struct {
	ID       int64
	Kind     string
	Payload  []byte
	Attempts int
	Error    string    // the error text of the last attempt
	DiedAt   time.Time // when the last attempt failed, by the queue's clock
}

// Dead lists the queue's dead jobs by id.
func (q *Queue) Dead(ctx context.Context) ([]DeadJob, error) {
	const stmt = `
		SELECT id, kind, payload, attempts, last_error, finished_at
		FROM jobs
		WHERE queue = $1 AND state = 'dead'
		ORDER BY id`

	rows, err := q.cfg.DB.Query(ctx, stmt, q.cfg.Queue)
	if err != nil {
		return nil, fmt.Errorf("list dead jobs: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DeadJob])
	if err != nil {
		return nil, fmt.Errorf("list dead jobs: %w", err)
	}
	return jobs, nil
}
