package embedded

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dedupsim/dedupsim/sim/backend"
)

// TestMain runs the tests, or plays a helper process when a test started
// this binary again to own a backend (see helper_test.go).
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperModeEnv); mode != "" {
		os.Exit(helperMain(mode))
	}
	goleak.VerifyTestMain(m)
}

// testConfig is a configuration with its own runtime directory and a log
// that shows only when the test fails. The template cache is the user's,
// shared with other test binaries, as it would be in real use.
func testConfig(tb testing.TB) Config {
	tb.Helper()
	return Config{
		Logger:     slog.New(slog.NewTextHandler(tb.Output(), nil)),
		RuntimeDir: runtimeDir(tb),
	}
}

// runtimeDir makes a runtime directory the server's account can reach:
// unlike tb.TempDir, whose parents are mode 0700.
func runtimeDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp(runtimeBase(), "dedupsim-test-")
	require.NoError(tb, err)
	require.NoError(tb, os.Chmod(dir, 0o711))
	tb.Cleanup(func() { require.NoError(tb, os.RemoveAll(dir)) })
	return dir
}

// newBackend starts a backend and closes it when the test ends.
func newBackend(tb testing.TB, cfg Config) *Backend {
	tb.Helper()
	b, err := New(tb.Context(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, b.Close()) })
	return b
}

// newRun starts a run and closes it when the test ends.
func newRun(tb testing.TB, b *Backend, opts backend.RunOptions) *backend.Run {
	tb.Helper()
	r, err := b.NewRun(tb.Context(), opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, r.Close(context.Background())) })
	return r
}

// instances lists the instance directories under a runtime directory.
func instances(tb testing.TB, root string) []string {
	tb.Helper()
	entries, err := os.ReadDir(root)
	require.NoError(tb, err)
	var dirs []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), instancePrefix) ||
			strings.HasPrefix(e.Name(), newInstancePrefix) {
			dirs = append(dirs, filepath.Join(root, e.Name()))
		}
	}
	return dirs
}
