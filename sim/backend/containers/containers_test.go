package containers_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/conformance"
	"github.com/dedupsim/dedupsim/sim/backend/containers"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		removeBin()
		os.Exit(code)
	}))
}

// newBackend starts a containers backend, closed when the test ends. Where
// no Docker engine is reachable the test skips, unless the backend is
// required.
func newBackend(tb testing.TB) *containers.Backend {
	tb.Helper()
	b, err := containers.New(conformance.Context(tb), containers.Config{})
	if err != nil {
		conformance.Unavailable(tb, "containers", err)
	}
	tb.Cleanup(func() { require.NoError(tb, b.Close()) })
	return b
}

// dockerPS lists the ids of the containers, running or not, that carry
// every label given (key=value).
func dockerPS(tb testing.TB, labels ...string) []string {
	tb.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		conformance.Unavailable(tb, "containers",
			fmt.Errorf("no docker command to list containers: %w", err))
	}
	args := []string{"ps", "-a", "-q", "--no-trunc"}
	for _, l := range labels {
		args = append(args, "--filter", "label="+l)
	}
	out, err := exec.Command("docker", args...).CombinedOutput()
	require.NoError(tb, err, string(out))
	return strings.Fields(string(out))
}

func TestTheContainersCarryTheirOwnerAndAreGoneAfterClose(t *testing.T) {
	b := newBackend(t)
	ids := dockerPS(t, containers.LabelBackend+"="+b.ID())
	require.Len(t, ids, 2)
	var want []string
	for _, c := range b.Containers() {
		want = append(want, c.ID)
		require.Regexp(t, `^127\.0\.0\.1:\d+$`, c.Addr, c.Role)
	}
	require.ElementsMatch(t, want, ids)
	mine := dockerPS(t, containers.LabelPID+"="+strconv.Itoa(os.Getpid()))
	require.Subset(t, mine, ids)
	require.Contains(t, b.Describe(), "container "+ids[0][:12])

	sc, err := scenarios.LoadShipped("c01-original-race")
	require.NoError(t, err)
	res, err := sim.RunScenario(conformance.Context(t), b, sc, sim.Options{Runs: 1})
	require.NoError(t, err)
	require.True(t, res.Held)
	require.Equal(t, "containers", res.Backend)

	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "a second Close")
	require.Empty(t, dockerPS(t, containers.LabelBackend+"="+b.ID()))
}

func TestAnImageNobodyHasNorCanPullIsUnavailable(t *testing.T) {
	const image = "dedupsim/no-such-image:none"
	_, err := containers.New(conformance.Context(t), containers.Config{
		PostgresImage: image, PostgresFallback: image})
	if err != nil && !strings.Contains(err.Error(), image) {
		conformance.Unavailable(t, "containers", err) // no engine at all
	}
	require.ErrorIs(t, err, containers.ErrNoImage)
	require.ErrorIs(t, err, backend.ErrUnavailable)
	require.Contains(t, err.Error(), "make images")
}
