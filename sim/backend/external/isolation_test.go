package external_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/backend/conformance"
	"github.com/dedupsim/dedupsim/sim/backend/external"
)

// The conformance suite seeds the same foreign data around every shipped
// scenario on this backend; this test covers the scenarios that reach
// furthest outside a plain run (a day's fast forward, a crashed worker's
// terminated connection; a Redis restart is refused), where a package
// test can run them quickly.
func TestDataWithTheRunsNamesSurvivesTheRiskiestScenarios(t *testing.T) {
	pgURL, redisURL := os.Getenv("DATABASE_URL"), os.Getenv("REDIS_URL")
	b, err := external.New(conformance.Context(t), external.Config{
		PostgresURL: pgURL, RedisURL: redisURL})
	if err != nil {
		conformance.Unavailable(t, "external", err)
	}
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	foreign := conformance.SeedForeign(t, pgURL, redisURL)

	// A Redis restart would touch the whole shared server: refused.
	sc, err := scenarios.LoadShipped("redis-restart")
	require.NoError(t, err)
	_, err = sim.RunScenario(conformance.Context(t), b, sc, sim.Options{Runs: 1})
	require.ErrorIs(t, err, sim.ErrRefused)

	for _, name := range []string{"c03-expired-claim", "c05b-claimer-crash",
		"c01-original-race"} {
		sc, err := scenarios.LoadShipped(name)
		require.NoError(t, err)
		res, err := sim.RunScenario(conformance.Context(t), b, sc, sim.Options{Runs: 1})
		require.NoError(t, err, name)
		require.True(t, res.Held, name)
	}
	foreign.Check(t)
}
