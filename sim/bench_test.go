package sim_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
)

// BenchmarkTrial runs one trial of the original race, two workers held at
// their claim, per strategy: a fresh database and key space, the run, the
// judgement and the cleanup.
func BenchmarkTrial(b *testing.B) {
	sc, err := scenarios.LoadShipped("c01-original-race")
	require.NoError(b, err)
	bk := testenv.Backend(b)
	for _, st := range []string{"legacy", "setnx", "db-unique"} {
		cfg := scenarios.Config{Strategy: st, Dispatch: "direct"}
		b.Run("scenario=c01/strategy="+st, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				_, err := sim.RunTrial(context.Background(), bk, sc, cfg, i+1, sim.Options{})
				require.NoError(b, err)
			}
		})
	}
}
