package embedded

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/dedupsim/dedupsim/sim/backend"
)

const (
	// defaultMaxConns bounds a run's pool when RunOptions leave it 0.
	defaultMaxConns = 32

	// defaultStrategy is how CREATE DATABASE copies the template.
	// FILE_COPY copies the files and checkpoints; WAL_LOG (PostgreSQL
	// 15's default) copies block by block through the WAL. For a small
	// template with fsync off, FILE_COPY measured faster: see
	// BenchmarkEmbedded/NewRunStrategy.
	defaultStrategy = "FILE_COPY"
)

// NewRun creates a database from the template and a Redis key prefix
// for one run. Close on the run drops both, unless opts.Keep.
func (b *Backend) NewRun(ctx context.Context, opts backend.RunOptions) (*backend.Run, error) {
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("new run: max conns %d: must not be negative",
			opts.MaxConns)
	}
	if b.isClosing() {
		return nil, fmt.Errorf("new run: %w", ErrClosed)
	}
	id := randomID()
	if err := b.createDatabase(ctx, id); err != nil {
		return nil, fmt.Errorf("new run: %w", err)
	}
	r, err := b.openRun(ctx, id, opts)
	if err != nil {
		_ = b.dropDatabase(ctx, id)
		return nil, fmt.Errorf("new run: %w", err)
	}
	if !b.track(r) {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("new run: %w", ErrClosed)
	}
	return r, nil
}

// openRun connects the run's clients and, for a kept run, marks the
// instance kept and says how to reopen it.
func (b *Backend) openRun(ctx context.Context, id string,
	opts backend.RunOptions) (*backend.Run, error) {
	url := dsn(b.srv.port, dbName(id))
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse run DSN: %w", err)
	}
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns == 0 {
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open run pool: %w", err)
	}

	r := &backend.Run{ID: id, DB: pool, DSN: url,
		Redis:       b.redisClient(),
		KeyPrefix:   "dedupsim:" + id + ":",
		FastForward: b.fastForward}
	// miniredis is shared by every run of the backend: restarting it for
	// one run is dropping that run's keys, which is what a restart without
	// persistence does to the run.
	r.RestartRedis = func(ctx context.Context) error {
		return backend.DeleteKeys(ctx, r.Redis, r.KeyPrefix)
	}
	if opts.Keep {
		if err := b.in.markKept(); err != nil {
			pool.Close()
			_ = r.Redis.Close()
			return nil, err
		}
		r.KeepHint = b.keepHint(dbName(id))
		b.log.Info("run kept", "run_id", id, "hint", r.KeepHint)
	}
	r.SetCleanup(func(ctx context.Context) error {
		return b.cleanupRun(ctx, r, opts.Keep)
	})
	return r, nil
}

// redisClient connects to miniredis. It skips the handshake extras
// (client identity, maintenance notifications) that a real server
// answers and miniredis need not.
func (b *Backend) redisClient() *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:            b.redis.Addr(),
		DisableIdentity: true,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	})
}

// fastForward advances miniredis time. The server is shared: every run
// of this backend sees the same clock.
func (b *Backend) fastForward(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fast forward: %w", err)
	}
	if d < 0 {
		return fmt.Errorf("fast forward %s: %w", d, errNegativeDuration)
	}
	b.redis.FastForward(d)
	return nil
}

var errNegativeDuration = errors.New("time does not run backwards")

// cleanupRun closes the run's clients and, unless kept, drops its
// database and deletes its keys.
func (b *Backend) cleanupRun(ctx context.Context, r *backend.Run, keep bool) error {
	b.untrack(r)
	r.DB.Close()
	var errs []error
	if !keep {
		errs = append(errs, backend.DeleteKeys(ctx, r.Redis, r.KeyPrefix))
		errs = append(errs, b.dropDatabase(ctx, r.ID))
	}
	errs = append(errs, r.Redis.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean up run %s: %w", r.ID, err)
	}
	return nil
}

// dbName is the database of run id.
func dbName(id string) string { return "run_" + id }

// strategyFor picks how CREATE DATABASE copies the template on a server
// of the given major version: servers before 15 know only one way.
func strategyFor(major int) string {
	if major < 15 {
		return ""
	}
	return defaultStrategy
}

// createDatabase makes run id's database from the template.
func (b *Backend) createDatabase(ctx context.Context, id string) error {
	sql := fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{dbName(id)}.Sanitize(), templateDB)
	if b.strategy != "" {
		sql += " STRATEGY " + b.strategy
	}
	if _, err := b.admin.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create database %s: %w", dbName(id), err)
	}
	return nil
}

// dropDatabase drops run id's database, ending its sessions.
func (b *Backend) dropDatabase(ctx context.Context, id string) error {
	sql := fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)",
		pgx.Identifier{dbName(id)}.Sanitize())
	if _, err := b.admin.Exec(ctx, sql); err != nil {
		return fmt.Errorf("drop database %s: %w", dbName(id), err)
	}
	return nil
}

// track records r as open, unless the backend is closing.
func (b *Backend) track(r *backend.Run) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return false
	}
	b.runs[r] = struct{}{}
	return true
}

func (b *Backend) untrack(r *backend.Run) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.runs, r)
}

func (b *Backend) isClosing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closing
}
