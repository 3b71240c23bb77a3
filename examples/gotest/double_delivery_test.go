// Package gotest_test shows dedupsim scenarios held by "go test" in a
// project's own test suite: one scenario file beside the test, run on the
// embedded backend, failing the test with the replay command when a
// strategy does not do what the scenario expects.
package gotest_test

import (
	"testing"

	"github.com/dedupsim/dedupsim/dedupsimtest"
)

// TestMain lets every test in this package share one embedded backend,
// closed after the last test.
func TestMain(m *testing.M) { dedupsimtest.Main(m) }

func TestDoubleDeliveryIsStoredOnceBySetNX(t *testing.T) {
	res := dedupsimtest.Run(t, "testdata/double-delivery.yaml")

	// Run has already failed the test if an expectation did not hold; the
	// result is there for anything more a test wants to check.
	for _, sr := range res.Strategies {
		t.Logf("%s: %d runs, held=%v", sr.Strategy, len(sr.Trials), sr.Held)
	}
}

func TestOnlyTheFixedStrategy(t *testing.T) {
	dedupsimtest.Run(t, "testdata/double-delivery.yaml",
		dedupsimtest.WithStrategies("setnx"), dedupsimtest.WithRuns(3))
}
