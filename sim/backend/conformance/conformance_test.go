package conformance

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend"
)

// recorder is a testing.TB that records a skip or a failure and stops
// there, as the real one would.
type recorder struct {
	testing.TB
	skipped, failed string
}

type stopped struct{}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

func (r *recorder) FailNow() { panic(stopped{}) }

// unavailable calls Unavailable on a recorder over t and returns it.
func unavailable(t *testing.T, name string, err error) (r *recorder) {
	r = &recorder{TB: t}
	defer func() {
		if p := recover(); p != nil && p != (stopped{}) {
			panic(p)
		}
	}()
	Unavailable(r, name, err)
	return r
}

func TestAnUnavailableBackendSkipsInOneLineUnlessRequired(t *testing.T) {
	noDocker := fmt.Errorf("start containers backend: no Docker engine "+
		"reachable: %w: dial unix /var/run/docker.sock: no such file\nmore",
		backend.ErrUnavailable)

	t.Setenv(RequireEnv, "")
	r := unavailable(t, "containers", noDocker)
	require.Empty(t, r.failed)
	require.Contains(t, r.skipped, "no Docker engine reachable")
	require.NotContains(t, r.skipped, "\n", "one line")
	require.Contains(t, r.skipped, RequireEnv)

	t.Setenv(RequireEnv, "embedded, containers")
	require.True(t, Required("containers"))
	require.False(t, Required("external"))
	r = unavailable(t, "containers", noDocker)
	require.Empty(t, r.skipped)
	require.Contains(t, r.failed, "no Docker engine reachable")
}

func TestABrokenBackendFailsEvenWhenNotRequired(t *testing.T) {
	t.Setenv(RequireEnv, "")
	r := unavailable(t, "external", errors.New("migrate run schema: syntax error"))
	require.Empty(t, r.skipped)
	require.Contains(t, r.failed, "syntax error")
}
