package external

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dedupsim/dedupsim/sim/backend"
)

// ErrNoURL means a server's URL is missing. It wraps
// backend.ErrUnavailable: without URLs there is nothing to connect to.
var ErrNoURL = fmt.Errorf("no server URL: %w", backend.ErrUnavailable)

// ErrClosed is returned by NewRun once Close has been called.
var ErrClosed = errors.New("external backend closed")

// Config tunes an external backend. PostgresURL and RedisURL are
// required; every other field has a default.
type Config struct {
	// PostgresURL connects to a database whose user may create schemas:
	// a URL (postgres://user:password@host:5432/db?sslmode=disable) or a
	// key=value DSN. Runs create their schemas in it.
	PostgresURL string

	// RedisURL connects to a Redis server: redis://[user:password@]host:
	// port[/db]. Runs write only keys under their own prefix.
	RedisURL string

	// Logger receives a record when the backend starts or stops and when
	// a dead process's leftovers are swept. Default: discards everything.
	Logger *slog.Logger

	// ConnectTimeout bounds connecting to both servers in New.
	// Default: 10s.
	ConnectTimeout time.Duration

	// CleanupTimeout bounds dropping one run's schema and keys.
	// Default: 30s.
	CleanupTimeout time.Duration
}

// withDefaults returns c with every unset field given its default.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.CleanupTimeout == 0 {
		c.CleanupTimeout = 30 * time.Second
	}
	return c
}

// validate reports the first field that cannot work.
func (c Config) validate() error {
	switch {
	case c.PostgresURL == "":
		return fmt.Errorf("postgres: %w", ErrNoURL)
	case c.RedisURL == "":
		return fmt.Errorf("redis: %w", ErrNoURL)
	case c.ConnectTimeout < 0:
		return fmt.Errorf("connect timeout %s: %w", c.ConnectTimeout, errNegative)
	case c.CleanupTimeout < 0:
		return fmt.Errorf("cleanup timeout %s: %w", c.CleanupTimeout, errNegative)
	}
	return nil
}

var errNegative = errors.New("must not be negative")
