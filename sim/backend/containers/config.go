package containers

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Image names: the official images by default, and the local stand-ins
// that `make images` builds, the fallbacks.
const (
	DefaultPostgresImage = "postgres:16"
	DefaultRedisImage    = "redis:7"
	LocalPostgresImage   = "dedupsim/postgres:local"
	LocalRedisImage      = "dedupsim/redis:local"
)

// The environment variables that name the images when Config does not.
const (
	PostgresImageEnv = "DEDUPSIM_POSTGRES_IMAGE"
	RedisImageEnv    = "DEDUPSIM_REDIS_IMAGE"
)

const (
	defaultStartTimeout   = 2 * time.Minute
	defaultPullTimeout    = 5 * time.Minute
	defaultCleanupTimeout = 30 * time.Second
)

// Config tunes a containers backend. The zero value is ready to use.
type Config struct {
	// Logger receives a record when the backend starts (with the
	// containers' ids and addresses) or stops, when an image falls back
	// to its stand-in, and when a dead process's containers are swept.
	// Default: discards everything.
	Logger *slog.Logger

	// PostgresImage is the Postgres image: one that keeps the official
	// image's contract (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB,
	// port 5432). Default: $DEDUPSIM_POSTGRES_IMAGE, else postgres:16.
	PostgresImage string

	// RedisImage is the Redis image, serving on port 6379. Default:
	// $DEDUPSIM_REDIS_IMAGE, else redis:7.
	RedisImage string

	// PostgresFallback and RedisFallback stand in for an image that is
	// neither on the engine nor pullable, when they are on the engine.
	// Default: dedupsim/postgres:local and dedupsim/redis:local. Set one
	// to its image's name for no fallback.
	PostgresFallback, RedisFallback string

	// StartTimeout bounds starting both containers until they answer.
	// Default: 2m.
	StartTimeout time.Duration

	// PullTimeout bounds pulling one image. Default: 5m.
	PullTimeout time.Duration

	// CleanupTimeout bounds removing the containers in Close.
	// Default: 30s.
	CleanupTimeout time.Duration
}

// withDefaults returns c with every unset field given its default.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.PostgresImage = firstSet(c.PostgresImage, os.Getenv(PostgresImageEnv),
		DefaultPostgresImage)
	c.RedisImage = firstSet(c.RedisImage, os.Getenv(RedisImageEnv),
		DefaultRedisImage)
	c.PostgresFallback = firstSet(c.PostgresFallback, LocalPostgresImage)
	c.RedisFallback = firstSet(c.RedisFallback, LocalRedisImage)
	if c.StartTimeout == 0 {
		c.StartTimeout = defaultStartTimeout
	}
	if c.PullTimeout == 0 {
		c.PullTimeout = defaultPullTimeout
	}
	if c.CleanupTimeout == 0 {
		c.CleanupTimeout = defaultCleanupTimeout
	}
	return c
}

// validate reports the first field that cannot work.
func (c Config) validate() error {
	switch {
	case c.StartTimeout < 0:
		return fmt.Errorf("start timeout %s: %w", c.StartTimeout, errNegative)
	case c.PullTimeout < 0:
		return fmt.Errorf("pull timeout %s: %w", c.PullTimeout, errNegative)
	case c.CleanupTimeout < 0:
		return fmt.Errorf("cleanup timeout %s: %w", c.CleanupTimeout, errNegative)
	}
	return nil
}

var errNegative = errors.New("must not be negative")

// firstSet returns the first non-empty string.
func firstSet(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
