// Package conformance is the suite every backend runs: embedded, external
// and containers. It holds a backend to the contract of package backend
// (each run a migrated, empty, private database and key space, removed on
// Close; FastForward expiring the run's keys) and runs every shipped
// scenario on it through sim.RunScenario, holding each strategy to the
// scenario's expectation.
//
// It also decides when a backend that cannot start may be skipped:
// never when the backend is listed in $DEDUPSIM_REQUIRE_BACKENDS, as CI
// lists all three; otherwise when the backend is merely unavailable on
// the machine (no URLs, no Docker engine), with a one-line reason.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/check"
)

// RequireEnv names the environment variable that lists, comma-separated,
// the backends that must start: for those, a failure to start fails the
// test instead of skipping it.
const RequireEnv = "DEDUPSIM_REQUIRE_BACKENDS"

// Required reports whether backend name is listed in RequireEnv.
func Required(name string) bool {
	for _, n := range strings.Split(os.Getenv(RequireEnv), ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

// Unavailable ends a test whose backend name did not start with err: it
// skips with a one-line reason when the backend is merely unavailable
// here and not required, and fails it otherwise.
func Unavailable(tb testing.TB, name string, err error) {
	tb.Helper()
	if errors.Is(err, backend.ErrUnavailable) && !Required(name) {
		line, _, _ := strings.Cut(err.Error(), "\n")
		tb.Skipf("backend %s unavailable (%s lists the required ones): %s",
			name, RequireEnv, line)
	}
	require.NoError(tb, err, "start backend %s", name)
}

// Run runs the whole suite on b, the contract first, and returns the
// shipped scenarios' results for comparison with another backend's.
func Run(t *testing.T, b backend.Backend) []sim.ScenarioResult {
	t.Helper()
	t.Run("contract", func(t *testing.T) { Contract(t, b) })
	var results []sim.ScenarioResult
	t.Run("shipped scenarios", func(t *testing.T) {
		results = Shipped(t, b)
	})
	return results
}

// Shipped runs every shipped scenario on b, one subtest each, requires
// that every strategy meets its expectation, and returns the results.
func Shipped(t *testing.T, b backend.Backend) []sim.ScenarioResult {
	t.Helper()
	var results []sim.ScenarioResult
	for _, name := range scenarios.Shipped() {
		t.Run(name, func(t *testing.T) {
			sc, err := scenarios.LoadShipped(name)
			require.NoError(t, err)
			res, err := sim.RunScenario(Context(t), b, sc, sim.Options{})
			if errors.Is(err, sim.ErrRefused) && b.Name() == "external" {
				t.Skipf("refused on shared servers, as it must be: %v", err)
			}
			require.NoError(t, err, "replay: dedupsim run --backend %s %s",
				b.Name(), name)
			for _, sr := range res.Strategies {
				require.True(t, sr.Held, "%s on %s: %v (replay: dedupsim run "+
					"--backend %s --strategy %s %s)", sr.Strategy, b.Name(),
					sr.Mismatches, b.Name(), sr.Strategy, name)
				require.Len(t, sr.Trials, sc.Runs)
			}
			results = append(results, res)
		})
	}
	return results
}

// Context is a context for one test: cancelled when it ends, and after
// five minutes at most, so that a hung backend fails rather than stalls.
func Context(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 5*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// Verdicts sums up results for comparison with another backend's, as
// sorted lines: per scenario and strategy whether the expectation held,
// and per run its verdict and the properties it broke. Properties the
// scenario ignores for the strategy are left out, and so are the runs of
// strategies it only observes: those vary from run to run by design.
func Verdicts(results []sim.ScenarioResult) []string {
	var out []string
	for _, r := range results {
		for _, sr := range r.Strategies {
			key := r.Scenario + " " + sr.Strategy
			out = append(out, fmt.Sprintf("%s: held=%t", key, sr.Held))
			if sr.Expectation.Observe {
				continue
			}
			for _, t := range sr.Trials {
				out = append(out, fmt.Sprintf("%s run %d: %s",
					key, t.Run, verdict(t, sr.Expectation.Ignore)))
			}
		}
	}
	slices.Sort(out)
	return out
}

// verdict is a run's verdict and its broken properties, less ignored.
func verdict(t sim.Trial, ignore []string) string {
	j := t.Judgement
	if j.Verdict == check.Unknown {
		return string(j.Verdict)
	}
	var broken []string
	for _, p := range j.Broken {
		if !slices.Contains(ignore, string(p)) {
			broken = append(broken, string(p))
		}
	}
	if len(broken) == 0 {
		return "pass"
	}
	return "fail " + strings.Join(broken, ",")
}
