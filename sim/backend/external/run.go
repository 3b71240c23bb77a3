package external

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/sim/backend"
)

const (
	// defaultMaxConns bounds a run's pool when RunOptions leave it 0.
	defaultMaxConns = 32

	// schemaPrefix starts the name of every run's schema.
	schemaPrefix = "run_"

	// keyPrefix starts every run's Redis key prefix.
	keyPrefix = "dedupsim:"

	// ownerTag starts the comment on a run's schema; the owner's JSON
	// follows.
	ownerTag = "dedupsim run; owner "
)

// ErrWrongSchema means a connection of a run's pool did not start in the
// run's schema, so its statements could touch another schema's tables.
var ErrWrongSchema = errors.New("connection not in the run's schema")

// NewRun creates a schema migrated to the flow's tables and a Redis key
// prefix for one run. Close on the run drops both, unless opts.Keep.
func (b *Backend) NewRun(ctx context.Context, opts backend.RunOptions) (*backend.Run, error) {
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("new run: max conns %d: %w", opts.MaxConns, errNegative)
	}
	if !b.open() {
		return nil, fmt.Errorf("new run: %w", ErrClosed)
	}
	id := randomID()
	if err := b.createSchema(ctx, id); err != nil {
		return nil, fmt.Errorf("new run: %w", err)
	}
	r, err := b.openRun(ctx, id, opts)
	if err != nil {
		b.dropRun(context.WithoutCancel(ctx), id)
		return nil, fmt.Errorf("new run: %w", err)
	}
	if !b.track(r) {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("new run: %w", ErrClosed)
	}
	return r, nil
}

// createSchema creates run id's schema and records its owner on it.
func (b *Backend) createSchema(ctx context.Context, id string) error {
	name := pgx.Identifier{schemaName(id)}.Sanitize()
	owner, err := json.Marshal(b.owner)
	if err != nil {
		return fmt.Errorf("encode owner: %w", err)
	}
	if _, err := b.admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return fmt.Errorf("create schema %s: %w", name, err)
	}
	// COMMENT takes no parameters: the owner goes in as a literal.
	comment := quoteLiteral(ownerTag + string(owner))
	if _, err := b.admin.Exec(ctx, "COMMENT ON SCHEMA "+name+" IS "+comment); err != nil {
		b.dropRun(context.WithoutCancel(ctx), id)
		return fmt.Errorf("comment on schema %s: %w", name, err)
	}
	return nil
}

// openRun opens the run's pool in its schema, migrates the schema, and
// connects the run's Redis client.
func (b *Backend) openRun(ctx context.Context, id string,
	opts backend.RunOptions) (*backend.Run, error) {
	schema := schemaName(id)
	dsn, err := withSearchPath(b.cfg.PostgresURL, schema)
	if err != nil {
		return nil, err
	}
	pool, err := runPool(ctx, dsn, schema, opts.MaxConns)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	rdb, err := redisClient(b.cfg.RedisURL)
	if err != nil {
		pool.Close()
		return nil, err
	}

	r := &backend.Run{ID: id, DB: pool, DSN: dsn, Redis: rdb,
		KeyPrefix: runPrefix(id)}
	r.FastForward = func(ctx context.Context, d time.Duration) error {
		return fastForward(ctx, rdb, r.KeyPrefix, d)
	}
	// No RestartRedis: restarting a server the user shares would touch
	// far more than this run, so scenarios that restart Redis are refused.
	if opts.Keep {
		r.KeepHint = b.keepHint(dsn, r.KeyPrefix)
		b.log.Info("run kept", "run_id", id, "hint", r.KeepHint)
	}
	r.SetCleanup(func(ctx context.Context) error {
		return b.cleanupRun(ctx, r, opts.Keep)
	})
	return r, nil
}

// runPool opens a pool whose every connection starts in schema, and
// checks that it does: a connection elsewhere would write outside the
// run's namespace.
func runPool(ctx context.Context, dsn, schema string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse run DSN: %w", err)
	}
	cfg.MaxConns = maxConns
	if cfg.MaxConns == 0 {
		cfg.MaxConns = defaultMaxConns
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = "dedupsim " + schema
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		var current *string
		err := c.QueryRow(ctx, "SELECT current_schema()").Scan(&current)
		if err != nil {
			return fmt.Errorf("check schema: %w", err)
		}
		if current == nil || *current != schema {
			return fmt.Errorf("check schema: want %s: %w", schema, ErrWrongSchema)
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open run pool: %w", err)
	}
	return pool, nil
}

// migrate creates the flow's tables in the schema the pool's connections
// start in.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate run schema: %w", err)
	}
	defer conn.Release()
	if err := store.Migrate(ctx, conn.Conn()); err != nil {
		return fmt.Errorf("migrate run schema: %w", err)
	}
	return nil
}

// keepHint says how to open a kept run's data.
func (b *Backend) keepHint(dsn, prefix string) string {
	return fmt.Sprintf("psql %q; redis keys %s* at %s", RedactURL(dsn), prefix,
		RedactURL(b.cfg.RedisURL))
}

// cleanupRun closes the run's clients and, unless kept, drops its schema
// and deletes its keys.
func (b *Backend) cleanupRun(ctx context.Context, r *backend.Run, keep bool) error {
	b.untrack(r)
	r.DB.Close()
	var errs []error
	if !keep {
		ctx, cancel := context.WithTimeout(ctx, b.cfg.CleanupTimeout)
		defer cancel()
		errs = append(errs, backend.DeleteKeys(ctx, r.Redis, r.KeyPrefix))
		errs = append(errs, b.dropSchema(ctx, r.ID))
	}
	errs = append(errs, r.Redis.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean up run %s: %w", r.ID, err)
	}
	return nil
}

// dropRun removes what run id may have created, logging what it could
// not: for runs that never made it to their caller.
func (b *Backend) dropRun(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.CleanupTimeout)
	defer cancel()
	err := errors.Join(backend.DeleteKeys(ctx, b.redis, runPrefix(id)), b.dropSchema(ctx, id))
	if err != nil {
		b.log.Warn("run not cleaned up", "run_id", id, "err", err)
	}
}

// dropSchema ends the sessions still in run id's schema and drops it with
// everything in it.
func (b *Backend) dropSchema(ctx context.Context, id string) error {
	schema := schemaName(id)
	_, err := b.admin.Exec(ctx, `SELECT pg_terminate_backend(pid)
		FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`,
		"dedupsim "+schema)
	if err != nil {
		return fmt.Errorf("end sessions in schema %s: %w", schema, err)
	}
	name := pgx.Identifier{schema}.Sanitize()
	if _, err := b.admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}

// quoteLiteral quotes s as an SQL string literal (with
// standard_conforming_strings on, the default since PostgreSQL 9.1).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// open reports whether the backend still hands out runs.
func (b *Backend) open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.closing
}

// schemaName is the schema of run id.
func schemaName(id string) string { return schemaPrefix + id }

// runPrefix is the Redis key prefix of run id.
func runPrefix(id string) string { return keyPrefix + id + ":" }

// randomID names a run: 12 hex digits.
func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
