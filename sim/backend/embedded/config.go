package embedded

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Config tunes an embedded backend. The zero value is ready to use.
type Config struct {
	// Logger receives a record when the backend starts or stops, when a
	// template is built and when a stale data directory is swept.
	// Default: a logger that discards everything.
	Logger *slog.Logger

	// CacheDir holds the template data directories, one per PostgreSQL
	// version and schema version. Default: <os.UserCacheDir>/dedupsim/
	// pg-templates.
	CacheDir string

	// RuntimeDir holds the data directories of running servers. When the
	// process runs as root it must be reachable by User. Default:
	// dedupsim-pg-<euid> in /dev/shm when that is a tmpfs with at least
	// 1 GiB free, else in os.TempDir. A throwaway server needs no disk,
	// and on some disk file systems creating the ~1000 files of a data
	// directory takes longer than all the rest of a start.
	RuntimeDir string

	// User is the account initdb and postgres run as when the process runs
	// as root (PostgreSQL refuses to run as root). Ignored otherwise.
	// Default: "nobody".
	User string

	// BinDir holds the postgres and initdb binaries. Default: found on
	// PATH, then by pg_config --bindir, then in the highest
	// /usr/lib/postgresql/<version>/bin.
	BinDir string

	// StartTimeout bounds one server start, from launch to ready.
	// Default: 30s.
	StartTimeout time.Duration

	// StopTimeout is how long Close waits for a fast shutdown before it
	// kills the server. Default: 10s.
	StopTimeout time.Duration
}

// withDefaults returns c with every unset field given its default.
func (c Config) withDefaults() (Config, error) {
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return c, fmt.Errorf("find user cache dir: %w", err)
		}
		c.CacheDir = filepath.Join(base, "dedupsim", "pg-templates")
	}
	if c.RuntimeDir == "" {
		name := fmt.Sprintf("dedupsim-pg-%d", os.Geteuid())
		c.RuntimeDir = filepath.Join(runtimeBase(), name)
	}
	if c.User == "" {
		c.User = "nobody"
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 30 * time.Second
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 10 * time.Second
	}
	return c, nil
}

// validate reports the first field that cannot work.
func (c Config) validate() error {
	switch {
	case !filepath.IsAbs(c.CacheDir):
		return fmt.Errorf("cache dir %q: %w", c.CacheDir, errNotAbsolute)
	case !filepath.IsAbs(c.RuntimeDir):
		return fmt.Errorf("runtime dir %q: %w", c.RuntimeDir, errNotAbsolute)
	case c.BinDir != "" && !filepath.IsAbs(c.BinDir):
		return fmt.Errorf("bin dir %q: %w", c.BinDir, errNotAbsolute)
	case c.StartTimeout < 0:
		return fmt.Errorf("start timeout %s: must not be negative", c.StartTimeout)
	case c.StopTimeout < 0:
		return fmt.Errorf("stop timeout %s: must not be negative", c.StopTimeout)
	}
	return nil
}

// runtimeBase is the directory the default RuntimeDir goes in.
func runtimeBase() string {
	const (
		shm        = "/dev/shm"
		tmpfsMagic = 0x01021994
		minFree    = 1 << 30
	)
	var st syscall.Statfs_t
	if err := syscall.Statfs(shm, &st); err != nil || st.Type != tmpfsMagic {
		return os.TempDir()
	}
	if st.Bavail*uint64(st.Bsize) < minFree || syscall.Access(shm, 0o2) != nil {
		return os.TempDir()
	}
	return shm
}

var errNotAbsolute = errors.New("path must be absolute")
