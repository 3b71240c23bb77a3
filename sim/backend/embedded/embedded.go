// Package embedded is the backend that needs no running servers:
// miniredis in this process, and a throwaway PostgreSQL server started
// from the locally installed binaries.
//
// The server starts from a template data directory, kept in the user's
// cache directory and built once per PostgreSQL and schema version, so a
// start takes a fraction of a second. It runs as an unprivileged user when
// this process runs as root, dies with this process (even by SIGKILL),
// and its data directory is removed on Close. Directories left by
// processes that died anyway are swept by the next New.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/sim/backend"
)

// ErrClosed is returned by NewRun once Close has been called.
var ErrClosed = errors.New("embedded backend closed")

// Backend runs one PostgreSQL server and one miniredis, and hands out
// runs, each with its own database and Redis key prefix.
type Backend struct {
	cfg      Config
	log      *slog.Logger
	bins     binaries
	acct     account
	tmpl     templateStore
	strategy string // how CREATE DATABASE copies the template; "" before 15

	templateID string // manifest ID of the template the server started from
	in         instance
	srv        *server
	admin      *pgxpool.Pool // to the "postgres" database, for DDL
	redis      *miniredis.Miniredis
	// ticking moves miniredis time along with real time until closed.
	stopTicking chan struct{}
	ticking     sync.WaitGroup

	mu      sync.Mutex
	runs    map[*backend.Run]struct{} // handed out and not closed yet
	closing bool

	closeOnce sync.Once
	closeErr  error
}

var _ backend.Backend = (*Backend)(nil)

// New starts the servers. When no PostgreSQL server binaries are
// installed its error wraps backend.ErrUnavailable and
// ErrNoServerBinaries.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	start := time.Now()
	b, err := prepare(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded backend: %w", err)
	}
	if err := b.startPostgres(ctx); err != nil {
		return nil, fmt.Errorf("start embedded backend: %w", err)
	}
	if err := b.startRedis(); err != nil {
		b.admin.Close()
		_ = b.srv.stop(b.cfg.StopTimeout)
		_ = b.in.remove()
		return nil, fmt.Errorf("start embedded backend: %w", err)
	}
	b.log.Info("embedded backend started",
		"data_dir", b.in.dataDir(), "port", b.srv.port,
		"redis_addr", b.redis.Addr(), "pg_version", b.bins.version,
		"duration", time.Since(start))
	return b, nil
}

// prepare checks the configuration, finds the binaries and the server's
// account, and sweeps what dead processes left in the runtime directory.
func prepare(ctx context.Context, cfg Config) (*Backend, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("check config: %w", err)
	}
	bins, err := findBinaries(ctx, cfg.BinDir, defaultSearch())
	if err != nil {
		return nil, err
	}
	if bins.version, err = readVersion(ctx, bins); err != nil {
		return nil, err
	}
	major := bins.major()
	if major < minMajor {
		return nil, fmt.Errorf("use postgres %s in %s: %w",
			bins.version, bins.dir, errTooOld)
	}
	acct, err := lookupAccount(cfg.User)
	if err != nil {
		return nil, err
	}
	if err := prepareRoot(cfg.RuntimeDir, acct); err != nil {
		return nil, err
	}
	sweep(ctx, cfg.RuntimeDir, cfg.Logger)

	tmpl := templateStore{cacheDir: cfg.CacheDir, pgVersion: bins.version,
		schemaVersion: store.SchemaVersion(), recipe: templateRecipe()}
	return &Backend{cfg: cfg, log: cfg.Logger, bins: bins, acct: acct,
		tmpl: tmpl, strategy: strategyFor(major),
		runs: map[*backend.Run]struct{}{}}, nil
}

// startRedis starts miniredis on a loopback port.
func (b *Backend) startRedis() error {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return fmt.Errorf("start miniredis: %w", err)
	}
	b.redis = m
	b.stopTicking = make(chan struct{})
	b.ticking.Go(b.tick)
	return nil
}

// tickEvery is how often miniredis time catches up with real time.
const tickEvery = 10 * time.Millisecond

// tick moves miniredis time along with real time, as a real server's
// expiry runs: miniredis itself only moves when told to, so a key with a
// 30 s TTL would otherwise never expire however long a run takes.
func (b *Backend) tick() {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case now := <-t.C:
			b.redis.FastForward(now.Sub(last))
			last = now
		case <-b.stopTicking:
			return
		}
	}
}

// Name returns "embedded".
func (b *Backend) Name() string { return "embedded" }

// Close closes the runs still open, stops both servers and removes the
// data directory unless a run asked to keep it. It is safe to call twice.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *Backend) close() error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.StopTimeout)
	defer cancel()
	var errs []error
	for _, r := range b.stopRuns() {
		errs = append(errs, r.Close(ctx))
	}

	b.admin.Close()
	errs = append(errs, b.srv.stop(b.cfg.StopTimeout))
	close(b.stopTicking)
	b.ticking.Wait()
	b.redis.Close()
	kept := b.in.kept()
	if !kept {
		errs = append(errs, b.in.remove())
	}
	b.log.Info("embedded backend stopped", "data_dir", b.in.dataDir(),
		"kept", kept, "duration", time.Since(start))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close embedded backend: %w", err)
	}
	return nil
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
