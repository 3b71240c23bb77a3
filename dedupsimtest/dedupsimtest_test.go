package dedupsimtest_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/dedupsimtest"
)

func TestMain(m *testing.M) { dedupsimtest.Main(m) }

// recorder is a testing.TB that keeps what Run says instead of failing
// the real test. Fatalf ends the calling goroutine, as the real one does.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatals []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

// record calls Run through a recorder, on a goroutine of its own so that
// a Fatalf ends only that goroutine.
func record(t *testing.T, path string, opts ...dedupsimtest.Option) *recorder {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		dedupsimtest.Run(r, path, opts...)
	}()
	<-done
	return r
}

func TestRunPassesWhenEveryStrategyMeetsItsExpectation(t *testing.T) {
	res := dedupsimtest.Run(t, "testdata/race.yaml", dedupsimtest.WithRuns(1))
	require.True(t, res.Held)
	require.Len(t, res.Strategies, 2)
}

func TestRunFailsTheTestWithWhatWasSeenAndTheReplayCommand(t *testing.T) {
	r := record(t, "testdata/wrong-promise.yaml", dedupsimtest.WithRuns(2))

	require.Empty(t, r.fatals)
	require.Len(t, r.errors, 1, "one message per failing strategy; setnx held")
	msg := r.errors[0]
	require.Contains(t, msg,
		"dedupsim: scenario wrong-promise, strategy legacy did not meet its expectation:\n")
	require.Regexp(t, `\n    wamid\.\S+#0: messages stored: expected 1, saw 2 \(runs 1, 2\)\n`, msg)
	require.Regexp(t, `\n    property no-duplicate broke: wamid\.\S+#0: 2 stored messages`, msg)

	abs, err := filepath.Abs("testdata/wrong-promise.yaml")
	require.NoError(t, err)
	require.Contains(t, msg, "\n  replay: go run github.com/dedupsim/dedupsim/cmd/dedupsim "+
		"run --strategy legacy "+abs)
}

func TestWithStrategiesRunsOnlyThoseAndRejectsOnesTheScenarioLacks(t *testing.T) {
	res := dedupsimtest.Run(t, "testdata/wrong-promise.yaml",
		dedupsimtest.WithStrategies("setnx"), dedupsimtest.WithRuns(1))
	require.Len(t, res.Strategies, 1)
	require.Equal(t, "setnx", res.Strategies[0].Strategy)

	r := record(t, "testdata/race.yaml", dedupsimtest.WithStrategies("setnx", "nope"))
	require.Len(t, r.fatals, 1)
	require.Contains(t, r.fatals[0], `unknown strategy "nope" (it has: legacy, setnx)`)
}

func TestABadScenarioFileStopsTheTestAndSaysWhere(t *testing.T) {
	r := record(t, "testdata/no-such.yaml")
	require.Len(t, r.fatals, 1)
	require.Contains(t, r.fatals[0], "no-such.yaml")
	require.Empty(t, r.errors)
}
