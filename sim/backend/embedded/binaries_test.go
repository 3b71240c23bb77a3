package embedded

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend"
)

func TestNoServerBinariesSaysHowToInstallThem(t *testing.T) {
	s := search{lookPath: notOnPath, debianRoot: t.TempDir()}
	_, err := findBinaries(t.Context(), "", s)
	require.ErrorIs(t, err, ErrNoServerBinaries)
	require.ErrorIs(t, err, backend.ErrUnavailable)
	require.Contains(t, err.Error(), "apt-get install -y postgresql")
}

func TestNewWithoutServerBinariesIsUnavailable(t *testing.T) {
	cfg := testConfig(t)
	cfg.BinDir = t.TempDir()
	_, err := New(t.Context(), cfg)
	require.ErrorIs(t, err, backend.ErrUnavailable)
	require.ErrorIs(t, err, ErrNoServerBinaries)
}

func TestDebianLayoutPicksTheHighestCompleteVersion(t *testing.T) {
	root := t.TempDir()
	fakeBinaries(t, filepath.Join(root, "9.6", "bin"), "postgres", "initdb")
	fakeBinaries(t, filepath.Join(root, "15", "bin"), "postgres", "initdb")
	fakeBinaries(t, filepath.Join(root, "16", "bin"), "postgres") // no initdb
	bins, err := findBinaries(t.Context(), "", search{lookPath: notOnPath, debianRoot: root})
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, "15", "bin"), bins.dir)
}

func TestPathComesBeforeDebianLayout(t *testing.T) {
	onPath := t.TempDir()
	fakeBinaries(t, onPath, "postgres", "initdb")
	link := filepath.Join(t.TempDir(), "postgres")
	require.NoError(t, os.Symlink(filepath.Join(onPath, "postgres"), link))
	root := t.TempDir()
	fakeBinaries(t, filepath.Join(root, "15", "bin"), "postgres", "initdb")

	lookPath := func(file string) (string, error) {
		if file == "postgres" {
			return link, nil
		}
		return "", exec.ErrNotFound
	}
	bins, err := findBinaries(t.Context(), "", search{lookPath: lookPath, debianRoot: root})
	require.NoError(t, err)
	require.Equal(t, onPath, bins.dir, "a link on PATH leads to its target's dir")
}

func notOnPath(string) (string, error) { return "", exec.ErrNotFound }

// fakeBinaries makes empty executables named names in dir.
func fakeBinaries(tb testing.TB, dir string, names ...string) {
	tb.Helper()
	require.NoError(tb, os.MkdirAll(dir, 0o755))
	for _, name := range names {
		require.NoError(tb, os.WriteFile(filepath.Join(dir, name), nil, 0o755))
	}
}
