// Package backend gives each simulator run its own private slice of a
// Redis and a Postgres server: a fresh database (or schema) migrated to the
// reference flow's schema, and a Redis key prefix nothing else uses.
//
// Backends live in subpackages: embedded (miniredis and a throwaway
// Postgres), external (servers the user runs) and containers.
package backend

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is wrapped by errors that mean the backend cannot start
// on this machine (no server binaries, no Docker engine).
var ErrUnavailable = errors.New("backend unavailable")

// Backend starts servers once and hands out isolated runs.
type Backend interface {
	// Name is the backend's name: "embedded", "external", "containers".
	Name() string
	// NewRun prepares a fresh database and Redis key space for one run.
	NewRun(ctx context.Context, opts RunOptions) (*Run, error)
	// Close stops what the backend started. It is safe to call twice.
	Close() error
}

// RunOptions tune one run.
type RunOptions struct {
	// Keep leaves the run's data in place after Close, for inspection.
	Keep bool
	// MaxConns bounds the run's Postgres pool; 0 means 32.
	MaxConns int32
}

// Run is one run's private database and key space.
type Run struct {
	// ID names the run; it is part of the database name and key prefix.
	ID string
	// DB is a pool connected to the run's own database, whose search_path
	// leads to the run's schema.
	DB *pgxpool.Pool
	// DSN connects to the run's database as DB does.
	DSN string
	// Redis is a client for the run's Redis server.
	Redis *redis.Client
	// KeyPrefix starts every Redis key the run may touch.
	KeyPrefix string
	// FastForward advances the Redis server's notion of time by d, expiring
	// keys whose TTL runs out. Nil where the server cannot be told.
	FastForward func(ctx context.Context, d time.Duration) error
	// RestartRedis restarts Redis as a server without persistence would
	// come back: with none of the run's keys. Nil where a restart would
	// touch more than the run (a server the user shares).
	RestartRedis func(ctx context.Context) error
	// KeepHint tells a person how to open the kept data: the command that
	// starts a server on it and the URL to connect to. Empty unless Keep.
	KeepHint string

	closeOnce sync.Once
	closeErr  error
	cleanup   func(context.Context) error
}

// SetCleanup makes Close call cleanup, once. Backends call it before they
// hand the run out.
func (r *Run) SetCleanup(cleanup func(context.Context) error) {
	r.cleanup = cleanup
}

// Close drops what the run created (unless kept) and closes its clients.
// It is safe to call twice.
func (r *Run) Close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		if r.cleanup != nil {
			r.closeErr = r.cleanup(ctx)
		}
	})
	return r.closeErr
}
