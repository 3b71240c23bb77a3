package conformance_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/conformance"
	"github.com/dedupsim/dedupsim/sim/backend/containers"
	"github.com/dedupsim/dedupsim/sim/backend/embedded"
	"github.com/dedupsim/dedupsim/sim/backend/external"
)

// starters start each backend from nothing. For embedded, cold means an
// empty template cache, so the start builds the template first.
var starters = map[string]func(b *testing.B, cold bool) (backend.Backend, error){
	"embedded": func(b *testing.B, cold bool) (backend.Backend, error) {
		cfg := embedded.Config{}
		if cold {
			cfg.CacheDir = b.TempDir()
		}
		return embedded.New(b.Context(), cfg)
	},
	"external": func(b *testing.B, _ bool) (backend.Backend, error) {
		return external.New(b.Context(), external.Config{
			PostgresURL: os.Getenv("DATABASE_URL"), RedisURL: os.Getenv("REDIS_URL")})
	},
	"containers": func(b *testing.B, _ bool) (backend.Backend, error) {
		return containers.New(b.Context(), containers.Config{})
	},
}

// BenchmarkBackendStart measures, per backend:
//   - cold: starting the backend from nothing, taking one run and
//     closing both (what one dedupsim run pays before its first run, and
//     after its last): for containers, starting two containers; for
//     embedded, with an empty template cache;
//   - warm: the same start with what can be cached cached (embedded:
//     the template), the cost of every later dedupsim run;
//   - run: one more run on a started backend, the cost of each further
//     scenario run.
func BenchmarkBackendStart(b *testing.B) {
	for _, name := range names {
		for _, mode := range []string{"cold", "warm"} {
			b.Run(name+"-"+mode, func(b *testing.B) {
				warmUp(b, name, mode == "warm")
				for b.Loop() {
					startRunClose(b, name, mode == "cold")
				}
			})
		}
		b.Run(name+"-run", func(b *testing.B) {
			bk := startOrSkip(b, name, false)
			defer bk.Close()
			for b.Loop() {
				r, err := bk.NewRun(context.Background(), backend.RunOptions{})
				require.NoError(b, err)
				require.NoError(b, r.Close(context.Background()))
			}
		})
	}
}

// warmUp starts and closes the backend once, unmeasured: a warm start
// finds the caches full, and a cold one finds the backend available.
func warmUp(b *testing.B, name string, warm bool) {
	b.StopTimer()
	defer b.StartTimer()
	require.NoError(b, startOrSkip(b, name, !warm).Close())
}

func startRunClose(b *testing.B, name string, cold bool) {
	bk, err := starters[name](b, cold)
	require.NoError(b, err)
	r, err := bk.NewRun(context.Background(), backend.RunOptions{})
	require.NoError(b, err)
	require.NoError(b, r.Close(context.Background()))
	require.NoError(b, bk.Close())
}

func startOrSkip(b *testing.B, name string, cold bool) backend.Backend {
	bk, err := starters[name](b, cold)
	if err != nil {
		conformance.Unavailable(b, name, err)
	}
	return bk
}
