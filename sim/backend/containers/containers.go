// Package containers is the backend that starts its own servers in
// Docker, with testcontainers-go: a Postgres and a Redis container, from
// the official images by default (postgres:16, redis:7). Where an image
// is neither on the engine nor pullable, as on a machine without a
// registry, its local stand-in (dedupsim/postgres:local,
// dedupsim/redis:local, built by `make images`) runs instead when the
// engine has it.
//
// The containers start once per Backend and serve every run it hands
// out; each run gets its own schema and key prefix exactly as with
// package external, which does that part.
//
// # Cleaning up without a reaper
//
// testcontainers' reaper (Ryuk) comes as an image of its own, which no
// registry may be there to provide, so New turns it off for the process
// (TESTCONTAINERS_RYUK_DISABLED=true). Instead each container carries
// labels naming its owner: dedupsim.owner.pid, dedupsim.owner.start (when
// that process started, so a reused pid is not mistaken for it),
// dedupsim.owner.boot (/proc/sys/kernel/random/boot_id) and
// dedupsim.owner.host. Close removes the backend's containers; the
// command line closes its backend on Ctrl-C; and New removes the
// labelled containers of owners known to be dead, as after kill -9, and
// never those of a live process.
package containers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/external"
)

// Backend runs a Postgres and a Redis container and hands out runs on
// them.
type Backend struct {
	cfg   Config
	log   *slog.Logger
	id    string // the LabelBackend of its containers
	owner external.Owner
	cli   *testcontainers.DockerClient
	host  string // where ports are published; "" for the engine's host

	pg, redis Container
	ext       *external.Backend

	closeOnce sync.Once
	closeErr  error
}

var _ backend.Backend = (*Backend)(nil)

// New sweeps the containers of dead processes, starts both containers
// and waits until both servers answer. Without a reachable Docker engine,
// or without an image to run, its error wraps backend.ErrUnavailable.
// Whatever it started is removed when it fails, even when ctx is
// cancelled.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	started := time.Now()
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("start containers backend: %w", err)
	}
	b, err := prepare(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start containers backend: %w", err)
	}
	if err := b.startServers(ctx); err != nil {
		b.removeAll()
		_ = b.cli.Close()
		return nil, fmt.Errorf("start containers backend: %w", err)
	}
	b.log.Info("containers backend started",
		"postgres_container", short(b.pg.ID), "postgres_image", b.pg.Image,
		"postgres_addr", b.pg.Addr, "redis_container", short(b.redis.ID),
		"redis_image", b.redis.Image, "redis_addr", b.redis.Addr,
		"duration", time.Since(started))
	return b, nil
}

// prepare connects to the engine and sweeps what dead processes left.
func prepare(ctx context.Context, cfg Config) (*Backend, error) {
	setUpTestcontainers()
	owner, err := external.CurrentOwner()
	if err != nil {
		return nil, err
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, id: randomHex(6), owner: owner,
		cli: cli, host: publishHost(cli)}
	b.sweep(ctx, cli)
	return b, nil
}

// startServers picks the images, starts both containers at once, waits
// until both servers answer, and opens the runs' backend on them.
func (b *Backend) startServers(ctx context.Context) error {
	pgImage, err := b.resolveImage(ctx, b.cli, b.cfg.PostgresImage,
		b.cfg.PostgresFallback)
	if err != nil {
		return err
	}
	redisImage, err := b.resolveImage(ctx, b.cli, b.cfg.RedisImage,
		b.cfg.RedisFallback)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, b.cfg.StartTimeout)
	defer cancel()
	password := randomHex(12)
	var pgErr, redisErr error
	var wg sync.WaitGroup
	wg.Go(func() { b.pg, pgErr = b.start(ctx, postgresSpec(pgImage, password)) })
	wg.Go(func() { b.redis, redisErr = b.start(ctx, redisSpec(redisImage)) })
	wg.Wait()
	if err := errors.Join(pgErr, redisErr); err != nil {
		return err
	}
	return b.connect(ctx, password)
}

// connect waits for both servers to answer and opens the external
// backend on them.
func (b *Backend) connect(ctx context.Context, password string) error {
	pgURL := fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", dbUser,
		password, b.pg.Addr, dbName)
	redisURL := "redis://" + b.redis.Addr + "/0"
	if err := waitPostgres(ctx, pgURL); err != nil {
		return fmt.Errorf("wait for postgres at %s: %w", b.pg.Addr, err)
	}
	if err := waitRedis(ctx, redisURL); err != nil {
		return fmt.Errorf("wait for redis at %s: %w", b.redis.Addr, err)
	}
	ext, err := external.New(ctx, external.Config{PostgresURL: pgURL,
		RedisURL: redisURL, Logger: b.log.With("backend", "containers")})
	if err != nil {
		return err
	}
	b.ext = ext
	return nil
}

// Name returns "containers".
func (b *Backend) Name() string { return "containers" }

// Containers returns the backend's containers: Postgres, then Redis.
func (b *Backend) Containers() []Container {
	return []Container{b.pg, b.redis}
}

// ID is the value of the LabelBackend label on the backend's containers.
func (b *Backend) ID() string { return b.id }

// Describe says which containers the backend runs, with their ids, images
// and published addresses.
func (b *Backend) Describe() string {
	var parts []string
	for _, c := range b.Containers() {
		parts = append(parts, fmt.Sprintf("%s %s (container %s) at %s",
			c.Role, c.Image, short(c.ID), c.Addr))
	}
	return strings.Join(parts, ", ")
}

// NewRun creates a schema and a key prefix for one run on the containers.
func (b *Backend) NewRun(ctx context.Context, opts backend.RunOptions) (*backend.Run, error) {
	r, err := b.ext.NewRun(ctx, opts)
	if err != nil {
		return nil, err
	}
	// The Redis container is ours alone: a restart may drop every key of
	// the run, as a server without persistence comes back empty.
	r.RestartRedis = func(ctx context.Context) error {
		return backend.DeleteKeys(ctx, r.Redis, r.KeyPrefix)
	}
	return r, nil
}

// Close closes the runs still open and removes both containers. It is
// safe to call twice.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *Backend) close() error {
	started := time.Now()
	errs := []error{b.ext.Close(), b.removeAll(), b.cli.Close()}
	b.log.Info("containers backend stopped", "postgres_container", short(b.pg.ID),
		"redis_container", short(b.redis.ID), "duration", time.Since(started))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close containers backend: %w", err)
	}
	return nil
}

// removeAll removes every container labelled as this backend's, whether
// or not New got as far as knowing it. It goes on when ctx, the caller's,
// was cancelled: an interrupted start must not leave containers behind.
func (b *Backend) removeAll() error {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.CleanupTimeout)
	defer cancel()
	return removeLabelled(ctx, b.cli, b.id)
}
