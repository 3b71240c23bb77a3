package embedded

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend"
)

func TestDamagedTemplateIsRebuilt(t *testing.T) {
	cfg := testConfig(t)
	cfg.CacheDir = t.TempDir()
	first := startAndClose(t, cfg)

	damages := []struct {
		name   string
		damage func(t *testing.T, tmpl templateStore)
	}{
		{"when a data file is deleted", func(t *testing.T, tmpl templateStore) {
			m, err := tmpl.load()
			require.NoError(t, err)
			require.NoError(t, os.Remove(filepath.Join(tmpl.dataDir(),
				relationFile(t, m))))
		}},
		{"when its marker is deleted", func(t *testing.T, tmpl templateStore) {
			require.NoError(t, os.Remove(filepath.Join(tmpl.dir(), "complete")))
		}},
		{"when the server will not start from it", func(t *testing.T, tmpl templateStore) {
			// Same size, so only the server can tell.
			conf := filepath.Join(tmpl.dataDir(), "postgresql.conf")
			b, err := os.ReadFile(conf)
			require.NoError(t, err)
			garbled := bytes.Repeat([]byte("="), len(b))
			require.NoError(t, os.WriteFile(conf, garbled, 0o600))
		}},
	}
	previous := first
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			d.damage(t, previous.tmpl)
			b := newBackend(t, cfg)
			r := newRun(t, b, backend.RunOptions{})
			_, err := r.DB.Exec(t.Context(), "INSERT INTO accounts (name) VALUES ('a')")
			require.NoError(t, err)
			require.NotEqual(t, previous.templateID, b.templateID)
			previous = b
		})
	}
}

func TestConcurrentColdStartsBuildOneTemplate(t *testing.T) {
	cfg := testConfig(t)
	cfg.CacheDir = t.TempDir()
	var backends [2]*Backend
	var errs [2]error
	var wg sync.WaitGroup
	for i := range backends {
		wg.Go(func() { backends[i], errs[i] = New(t.Context(), cfg) })
	}
	wg.Wait()
	for i, b := range backends {
		require.NoError(t, errs[i])
		t.Cleanup(func() { require.NoError(t, b.Close()) })
	}
	require.Equal(t, backends[0].templateID, backends[1].templateID)
}

// startAndClose starts a backend on cfg, closes it and returns it.
func startAndClose(tb testing.TB, cfg Config) *Backend {
	tb.Helper()
	b, err := New(tb.Context(), cfg)
	require.NoError(tb, err)
	require.NoError(tb, b.Close())
	return b
}

// relationFile picks a relation's file from a template's manifest.
func relationFile(tb testing.TB, m manifest) string {
	tb.Helper()
	for _, f := range m.Files {
		if !f.Dir && strings.HasPrefix(f.Path, "base/") && f.Size > 0 {
			return filepath.FromSlash(f.Path)
		}
	}
	require.FailNow(tb, "no relation file in the manifest")
	return ""
}
