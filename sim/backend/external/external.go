// Package external is the backend for servers the user already runs: a
// PostgreSQL and a Redis given by URL.
//
// Every run works inside a namespace of its own: a Postgres schema
// run_<id>, migrated to the reference flow's schema and first (and only)
// on the search_path of every connection of the run's pool, and the Redis
// key prefix dedupsim:<id>:. The job queue, the outbox, the claim
// strategies' tables and indexes all land in that schema; advisory locks,
// which are database-wide, are namespaced per run by the flow itself.
// Cleaning up removes exactly what the run created: DROP SCHEMA run_<id>
// CASCADE, and DEL of the keys that SCAN finds under the run's prefix. It
// never flushes a Redis database and never drops anything outside the
// run's schema.
//
// # Time
//
// A real Redis server's clock cannot be moved. Run.FastForward(d) shortens
// instead the TTL of each of the run's own keys by d: it reads the key's
// PTTL and sets what is left with PEXPIRE, or deletes the key when
// nothing is, in one script per batch of keys so that no worker's write
// falls between the read and the write. Keys without a TTL, and every
// key outside the run's prefix, are left alone. Real time keeps running
// meanwhile, as on any real server.
//
// Run.RestartRedis does to the run what restarting a server without
// persistence would: the run's keys are gone. The server is not
// restarted, since others may share it.
//
// # Leftovers
//
// A process killed before it can clean up leaves its runs' schemas and
// keys. Each schema records its owner (host, boot, pid and process start
// time) as its comment; New drops the schemas, and deletes the keys, of
// runs whose owner is known to have died, and of no other.
package external

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/dedupsim/dedupsim/sim/backend"
)

// Backend hands out runs on the user's servers, each in its own schema
// and key prefix.
type Backend struct {
	cfg   Config
	log   *slog.Logger
	owner Owner
	admin *pgxpool.Pool // for DDL and sweeps, on the user's search_path
	redis *redis.Client // for sweeps

	mu      sync.Mutex
	runs    map[*backend.Run]struct{} // handed out and not closed yet
	closing bool

	closeOnce sync.Once
	closeErr  error
}

var _ backend.Backend = (*Backend)(nil)

// New connects to both servers and sweeps what runs of dead processes
// left. A missing URL, or a server that does not answer, is an error
// wrapping backend.ErrUnavailable.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	started := time.Now()
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("start external backend: %w", err)
	}
	owner, err := CurrentOwner()
	if err != nil {
		return nil, fmt.Errorf("start external backend: %w", err)
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, owner: owner,
		runs: map[*backend.Run]struct{}{}}
	if err := b.connect(ctx); err != nil {
		b.closeClients()
		return nil, fmt.Errorf("start external backend: %w", err)
	}
	b.sweep(ctx)
	b.log.Info("external backend started", "postgres", RedactURL(cfg.PostgresURL),
		"redis", RedactURL(cfg.RedisURL), "duration", time.Since(started))
	return b, nil
}

// connect opens the admin clients and pings both servers.
func (b *Backend) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.ConnectTimeout)
	defer cancel()
	pcfg, err := pgxpool.ParseConfig(b.cfg.PostgresURL)
	if err != nil {
		return fmt.Errorf("parse postgres URL: %w", err)
	}
	pcfg.MaxConns = 4
	pcfg.ConnConfig.RuntimeParams["application_name"] = "dedupsim admin"
	if b.admin, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return fmt.Errorf("open postgres pool: %w", err)
	}
	if b.redis, err = redisClient(b.cfg.RedisURL); err != nil {
		return err
	}
	if err := b.admin.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres %s: %w: %w",
			RedactURL(b.cfg.PostgresURL), backend.ErrUnavailable, err)
	}
	if err := b.redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis %s: %w: %w",
			RedactURL(b.cfg.RedisURL), backend.ErrUnavailable, err)
	}
	return nil
}

// Name returns "external".
func (b *Backend) Name() string { return "external" }

// Describe says which servers the backend uses, without passwords.
func (b *Backend) Describe() string {
	return fmt.Sprintf("postgres %s, redis %s",
		RedactURL(b.cfg.PostgresURL), RedactURL(b.cfg.RedisURL))
}

// Close closes the runs still open, dropping their schemas and keys
// unless kept, and then the backend's own clients. It is safe to call
// twice.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *Backend) close() error {
	started := time.Now()
	var errs []error
	for _, r := range b.stopRuns() {
		errs = append(errs, r.Close(context.Background()))
	}
	b.closeClients()
	b.log.Info("external backend stopped", "duration", time.Since(started))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close external backend: %w", err)
	}
	return nil
}

// closeClients closes whichever admin clients are open.
func (b *Backend) closeClients() {
	if b.admin != nil {
		b.admin.Close()
	}
	if b.redis != nil {
		_ = b.redis.Close()
	}
}

// stopRuns refuses new runs and returns those still open.
func (b *Backend) stopRuns() []*backend.Run {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closing = true
	runs := make([]*backend.Run, 0, len(b.runs))
	for r := range b.runs {
		runs = append(runs, r)
	}
	return runs
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
