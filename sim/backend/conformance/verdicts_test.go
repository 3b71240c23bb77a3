package conformance_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/conformance"
)

// realRedis opens the first backend with a real Redis that can start
// here: external, else containers.
func realRedis(t *testing.T) backend.Backend {
	t.Helper()
	if os.Getenv("DATABASE_URL") != "" && os.Getenv("REDIS_URL") != "" {
		return open(t, "external")
	}
	return open(t, "containers")
}

// shippedOn returns the shipped scenarios' results on b: those the suite
// recorded for it, else a fresh run. go test runs a package's tests in
// the order of its files' names, so this file comes after suite_test.go:
// in a whole run of the package the suite has recorded them.
func shippedOn(t *testing.T, b backend.Backend) []sim.ScenarioResult {
	t.Helper()
	shipped.mu.Lock()
	res, ok := shipped.results[b.Name()]
	shipped.mu.Unlock()
	if ok {
		return res
	}
	var out []sim.ScenarioResult
	t.Run("shipped on "+b.Name(), func(t *testing.T) {
		out = conformance.Shipped(t, b)
	})
	require.False(t, t.Failed())
	return out
}

func TestMiniredisAndARealRedisGiveTheSameVerdicts(t *testing.T) {
	real := realRedis(t)
	mini := open(t, "embedded")

	// The external backend refuses scenarios that restart Redis, as it
	// must on shared servers: those are compared against containers.
	var refused []string
	t.Run("on every shipped scenario", func(t *testing.T) {
		onMini := shippedOn(t, mini)
		onReal := shippedOn(t, real)
		var want []sim.ScenarioResult
		refused = nil
		for _, r := range onMini {
			if ranOn(onReal, r.Scenario) {
				want = append(want, r)
				continue
			}
			require.Equal(t, "external", real.Name(),
				"%s did not run on %s", r.Scenario, real.Name())
			requireRestartsRedis(t, r.Scenario)
			refused = append(refused, r.Scenario)
		}
		require.Equal(t, conformance.Verdicts(want), conformance.Verdicts(onReal),
			"embedded (want) against %s (got)", real.Name())
	})
	t.Run("on the scenarios that restart Redis, against containers", func(t *testing.T) {
		if len(refused) == 0 {
			t.Skipf("%s ran every shipped scenario", real.Name())
		}
		ctr := open(t, "containers")
		var want, got []sim.ScenarioResult
		for _, r := range shippedOn(t, mini) {
			if slices.Contains(refused, r.Scenario) {
				want = append(want, r)
			}
		}
		for _, r := range shippedOn(t, ctr) {
			if slices.Contains(refused, r.Scenario) {
				got = append(got, r)
			}
		}
		require.Len(t, got, len(refused))
		require.Equal(t, conformance.Verdicts(want), conformance.Verdicts(got),
			"embedded (want) against containers (got)")
	})
	t.Run("on 16 copies of one message, 20 free runs", func(t *testing.T) {
		sc := freeBurst(t)
		var verdicts [][]string
		for _, b := range []backend.Backend{mini, real} {
			res, err := sim.RunScenario(conformance.Context(t), b, sc, sim.Options{})
			require.NoError(t, err)
			for _, sr := range res.Strategies {
				require.True(t, sr.Held, "%s on %s: %v", sr.Strategy, b.Name(),
					sr.Mismatches)
			}
			verdicts = append(verdicts, conformance.Verdicts([]sim.ScenarioResult{res}))
		}
		require.Equal(t, verdicts[0], verdicts[1])
	})
}

// ranOn reports whether results hold scenario's.
func ranOn(results []sim.ScenarioResult, scenario string) bool {
	return slices.ContainsFunc(results, func(r sim.ScenarioResult) bool {
		return r.Scenario == scenario
	})
}

// requireRestartsRedis fails unless the shipped scenario name has a
// Redis restart among its faults: the only kind external may refuse.
func requireRestartsRedis(t *testing.T, name string) {
	t.Helper()
	sc, err := scenarios.LoadShipped(name)
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(sc.Faults, func(f scenarios.Fault) bool {
		return f.Kind == "redis-restart"
	}), "%s was refused but restarts nothing", name)
}

// freeBurst is sixteen workers taking sixteen copies of one message at
// once, released together, twenty times, under setnx and db-unique: each
// must store the message once and send one webhook, every time.
func freeBurst(tb testing.TB) *scenarios.Scenario {
	tb.Helper()
	const text = `name: free-burst
app_secret: synthetic-app-secret-0001
inboxes: [{name: support, phone_number_id: "200000000000001"}]
subscribers: [{name: crm, secret: whsec_msv4sLZxfN9jznXNtS/JZ0lrEghyJSia}]
workers: 16
deliveries:
  - text: {id: wamid.FREE-01, from: "15550000002", name: Alpha, body: "hello"}
    copies: 16
strategies: [setnx, db-unique]
schedule: {kind: free, release_together: true}
runs: 20
expect:
  setnx: {messages: 1, webhooks: 1}
  db-unique: {messages: 1, webhooks: 1}
`
	path := filepath.Join(tb.TempDir(), "free-burst.yaml")
	require.NoError(tb, os.WriteFile(path, []byte(text), 0o644))
	sc, err := scenarios.LoadFile(path)
	require.NoError(tb, err)
	return sc
}
