package dedupsimtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/embedded"
)

// aside sets the shared backend aside for the test and puts it back after,
// so a test can play a binary with or without Main.
func aside(tb testing.TB) {
	tb.Helper()
	shared.mu.Lock()
	active, b, err := shared.active, shared.b, shared.err
	shared.active, shared.b, shared.err = false, nil, nil
	shared.mu.Unlock()
	tb.Cleanup(func() {
		shared.mu.Lock()
		shared.active, shared.b, shared.err = active, b, err
		shared.mu.Unlock()
	})
}

func requireClosed(tb testing.TB, b backend.Backend) {
	tb.Helper()
	_, err := b.NewRun(context.Background(), backend.RunOptions{})
	require.ErrorIs(tb, err, embedded.ErrClosed)
}

func TestWithoutMainEachTestGetsABackendClosedWhenItEnds(t *testing.T) {
	aside(t)
	var first, second backend.Backend
	t.Run("first test", func(t *testing.T) {
		var err error
		first, err = backendFor(t)
		require.NoError(t, err)
	})
	t.Run("second test", func(t *testing.T) {
		var err error
		second, err = backendFor(t)
		require.NoError(t, err)
	})
	require.NotSame(t, first, second)
	requireClosed(t, first)
	requireClosed(t, second)
}

// fakeM plays testing.M: its Run is the whole test binary.
type fakeM func() int

func (f fakeM) Run() int { return f() }

func TestUnderMainEveryTestSharesOneBackendClosedAfterTheLast(t *testing.T) {
	aside(t)
	var seen []backend.Backend
	code := runMain(fakeM(func() int {
		for _, name := range []string{"first test", "second test"} {
			t.Run(name, func(t *testing.T) {
				b, err := backendFor(t)
				require.NoError(t, err)
				seen = append(seen, b)
			})
		}
		return 0
	}))
	require.Equal(t, 0, code)
	require.Len(t, seen, 2)
	require.Same(t, seen[0], seen[1])
	requireClosed(t, seen[0])
	require.Nil(t, shared.b)
}
