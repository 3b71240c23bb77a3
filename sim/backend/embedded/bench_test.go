package embedded

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend"
)

// BenchmarkEmbedded measures what a test binary or a simulator run pays:
// a start with no template (initdb and migrations), a start from the
// template, a database per run, a run's teardown, and a stop.
func BenchmarkEmbedded(b *testing.B) {
	b.Run("ColdStart", benchColdStart)
	b.Run("WarmStart", benchWarmStart)
	b.Run("NewRun", func(b *testing.B) { benchNewRun(b, defaultStrategy) })
	b.Run("NewRunStrategy/FILE_COPY", func(b *testing.B) { benchNewRun(b, "FILE_COPY") })
	b.Run("NewRunStrategy/WAL_LOG", func(b *testing.B) { benchNewRun(b, "WAL_LOG") })
	b.Run("Teardown", benchTeardown)
	b.Run("Stop", benchStop)
}

func benchColdStart(b *testing.B) {
	cfg := benchConfig(b)
	for range b.N {
		b.StopTimer()
		dir, err := os.MkdirTemp(b.TempDir(), "cache-")
		require.NoError(b, err)
		cfg.CacheDir = dir
		b.StartTimer()

		be, err := New(b.Context(), cfg)
		require.NoError(b, err)

		b.StopTimer()
		require.NoError(b, be.Close())
		b.StartTimer()
	}
}

func benchWarmStart(b *testing.B) {
	cfg := benchConfig(b)
	require.NoError(b, startAndClose(b, cfg).Close()) // the template exists
	b.ResetTimer()
	for range b.N {
		be, err := New(b.Context(), cfg)
		require.NoError(b, err)

		b.StopTimer()
		require.NoError(b, be.Close())
		b.StartTimer()
	}
}

func benchNewRun(b *testing.B, strategy string) {
	be := newBackend(b, benchConfig(b))
	be.strategy = strategy
	b.ResetTimer()
	for range b.N {
		r, err := be.NewRun(b.Context(), backend.RunOptions{})
		require.NoError(b, err)

		b.StopTimer()
		require.NoError(b, r.Close(context.Background()))
		b.StartTimer()
	}
}

func benchTeardown(b *testing.B) {
	be := newBackend(b, benchConfig(b))
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		r, err := be.NewRun(b.Context(), backend.RunOptions{})
		require.NoError(b, err)
		require.NoError(b, r.Redis.Set(b.Context(), r.KeyPrefix+"k", 1, 0).Err())
		b.StartTimer()

		require.NoError(b, r.Close(context.Background()))
	}
}

func benchStop(b *testing.B) {
	cfg := benchConfig(b)
	for range b.N {
		b.StopTimer()
		be, err := New(b.Context(), cfg)
		require.NoError(b, err)
		b.StartTimer()

		require.NoError(b, be.Close())
	}
}

// benchConfig is testConfig without the log, which benchmarks would print.
func benchConfig(b *testing.B) Config {
	b.Helper()
	return Config{RuntimeDir: runtimeDir(b)}
}
