package conformance_test

import (
	"os"
	"path/filepath"
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

	t.Run("on every shipped scenario", func(t *testing.T) {
		want := conformance.Verdicts(shippedOn(t, mini))
		got := conformance.Verdicts(shippedOn(t, real))
		require.Equal(t, want, got, "embedded (want) against %s (got)", real.Name())
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
