package bench

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/claim"
)

// sends runs a message and then its copy through the rig's first worker
// and returns what the worker sent to Redis and Postgres.
func (r *rig) sends(t *testing.T) []string {
	t.Helper()
	job := r.job(t, 7)
	for range 2 {
		_, err := r.procs[0].process(t.Context(), job)
		require.NoError(t, err)
	}
	return r.log.all()
}

func TestTheFloorSendsWhatItsStrategySendsForAMessageAndItsCopy(t *testing.T) {
	for _, name := range claim.Names() {
		t.Run(name, func(t *testing.T) {
			flowRig := newRig(t, KindFlow, name, 1, true)
			floorRig := newRig(t, KindFloor, name, 1, true)
			// Both runs get one namespace, so that the lock keys match.
			flowRig.procs[0].(*flowProcessor).w.Namespace = 42
			floorRig.procs[0].(*floorProcessor).f.namespace = 42

			want := flowRig.sends(t)
			require.NotEmpty(t, want)
			require.Equal(t, want, floorRig.sends(t))
			require.Equal(t, flowRig.cell.sink.posts.Load(),
				floorRig.cell.sink.posts.Load(), "webhook POSTs")
		})
	}
}

func TestEveryStrategyHasAFloorPlan(t *testing.T) {
	for _, name := range claim.Names() {
		require.Contains(t, plans, name)
	}
	require.Len(t, plans, len(claim.Names()))
}
