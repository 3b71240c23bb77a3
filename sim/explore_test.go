package sim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
)

// claimWindow is the window the three-worker searches interleave: the
// claim's Redis steps, the GET and the SET, where the guards differ. The
// database lookup before them reads a row that no one writes before
// COMMIT, and no COMMIT happens inside the window, so it commutes with
// every step there and adds orders but no interleaving: left before the
// window, it runs first, without branching.
const claimWindow = "[claim.check, claim.mark]"

// exhaustiveBound is the max_runs of the three-worker searches: above the
// orders an unpruned search of either guard runs (6 and 66, counted
// below), so the bound never decides whether a search completes.
const exhaustiveBound = 100

// threeWayRace is three copies of one message for three workers under a
// serialized schedule.
func threeWayRace(strategy, sched string) string {
	return strings.Replace(serialRace(strategy, sched), "workers: 2\n"+
		"deliveries: [{payload: single-text.json, copies: 2}]",
		"workers: 3\ndeliveries: [{payload: single-text.json, copies: 3}]", 1)
}

// searchThree runs the three-worker exhaustive search of strategy over
// claimWindow with at most maxRuns runs.
func searchThree(t *testing.T, strategy string, maxRuns int,
	prune bool) sim.StrategyResult {
	t.Helper()
	sched := fmt.Sprintf("{kind: exhaustive, window: %s, max_runs: %d, no_prune: %t}",
		claimWindow, maxRuns, !prune)
	text := threeWayRace(strategy, sched)
	require.Contains(t, text, "workers: 3\ndeliveries: [{payload: single-text.json, copies: 3}]")
	sr := runSerial(t, text, sim.Options{})
	require.NotNil(t, sr.Coverage)
	for _, tr := range sr.Trials {
		require.Empty(t, tr.Serial.Ended, tr.Serial.Replay)
	}
	return sr
}

// classes returns the distinct interleavings of a search's runs and the
// failing ones, as sorted canonical orders.
func classes(sr sim.StrategyResult) (all, failing []string) {
	a, f := map[string]bool{}, map[string]bool{}
	for _, tr := range sr.Trials {
		if tr.Serial.Redundant {
			continue
		}
		a[tr.Serial.Class] = true
		if tr.Judgement.Verdict == check.Fail {
			f[tr.Serial.Class] = true
		}
	}
	return keys(a), keys(f)
}

// rawOrders counts the orders of the windowed steps that an unpruned
// search runs, from a model of the guard alone, without the simulator:
// with lookups, every worker first looks the message up (l); then legacy
// GETs the key (c) and SETs it (m) only if the GET found it unset, while
// setnx SETs it (m) at once. No COMMIT happens inside the window, so
// every lookup finds nothing.
func rawOrders(strategy string, workers int, lookups bool) int {
	const (
		lookup = iota
		get
		set
		done
	)
	first := get
	if strategy == "setnx" {
		first = set
	}
	if lookups {
		first = lookup
	}
	var count func(at []int, marked bool) int
	count = func(at []int, marked bool) int {
		n, moved := 0, false
		for w, s := range at {
			if s == done {
				continue
			}
			moved = true
			next, m := s+1, marked
			switch {
			case s == lookup && strategy == "setnx":
				next = set
			case s == get && marked:
				next = done // refused: the key is set, no SET follows
			case s == set:
				m = true
			}
			at[w] = next
			n += count(at, m)
			at[w] = s
		}
		if !moved {
			return 1
		}
		return n
	}
	at := make([]int, workers)
	for w := range at {
		at[w] = first
	}
	return count(at, false)
}

// By hand, for three workers over claimWindow:
//
// setnx: only the three SET NX are inside: 3! = 6 orders, and each is
// an interleaving of its own, every SET writing the one key.
//
// legacy: each worker GETs (c) and, if its GET came before every SET,
// SETs (m). By the number k of workers whose GET precedes the first SET:
//   - k = 3: the three GETs in 3! orders, then the three SETs in 3!: 36;
//   - k = 2 (3 choices of the two): their GETs in 2 orders, which SETs
//     first (2), then the other SET and the third worker's GET in 2
//     orders: 3 × 2 × 2 × 2 = 24;
//   - k = 1 (3 choices): its GET and SET, then the two others' GETs in 2
//     orders: 6;
//
// 36 + 24 + 6 = 66 orders, of the 6!/(2!·2!·2!) = 90 merges of three
// c m pairs: a refused worker takes no SET.
//
// With the lookups inside the window too, setnx has 6!/(2!·2!·2!) = 90
// orders and legacy 1152 (of 9!/(3!·3!·3!) = 1680 merges); two workers
// have 6 and 20, as TestExhaustiveSearchCountsPerStrategy finds.
func TestTheRawOrderCountsOfTheClaimWindows(t *testing.T) {
	for _, c := range []struct {
		strategy         string
		workers          int
		lookups          bool
		orders, noRefuse int
	}{
		{"setnx", 3, false, 6, 6},
		{"legacy", 3, false, 66, 90},
		{"setnx", 3, true, 90, 90},
		{"legacy", 3, true, 1152, 1680},
		{"setnx", 2, true, 6, 6},
		{"legacy", 2, true, 20, 20},
	} {
		require.Equal(t, c.orders, rawOrders(c.strategy, c.workers, c.lookups),
			"%s, %d workers, lookups %t", c.strategy, c.workers, c.lookups)
		require.LessOrEqual(t, c.orders, c.noRefuse)
	}
}

func TestAnExhaustiveSearchOfThreeWorkersCompletesWellWithinItsBound(t *testing.T) {
	cases := []struct {
		strategy string
		// raw is the number of orders (see above); interleavings, when
		// not 0, the number of distinct ones.
		raw, interleavings int
		failing            bool
	}{
		{strategy: "setnx", raw: 6, interleavings: 6},
		{strategy: "legacy", raw: 66, failing: true},
	}
	for _, c := range cases {
		t.Run(c.strategy, func(t *testing.T) {
			require.Less(t, c.raw, exhaustiveBound)
			unpruned := searchThree(t, c.strategy, exhaustiveBound, false)
			sr := searchThree(t, c.strategy, exhaustiveBound, true)
			cov := sr.Coverage
			all, failing := classes(sr)
			t.Logf("%s over %s: %d runs (%d cut as redundant) of %d orders, "+
				"bound %d; %d interleavings, %d failing; %d failing runs",
				c.strategy, claimWindow, cov.Runs, cov.Redundant, c.raw,
				exhaustiveBound, len(all), len(failing), cov.Failures)

			// The unpruned search runs every order once.
			require.True(t, unpruned.Coverage.Complete)
			require.Equal(t, c.raw, unpruned.Coverage.Runs)

			require.True(t, cov.Complete, "the search stopped at its bound")
			require.LessOrEqual(t, cov.Runs, exhaustiveBound)
			require.Len(t, sr.Trials, cov.Runs)
			require.LessOrEqual(t, cov.Runs, c.raw)
			rawAll, rawFailing := classes(unpruned)
			require.Equal(t, rawAll, all, "pruning lost an interleaving")
			require.Equal(t, rawFailing, failing)
			require.Equal(t, len(all), cov.Interleavings)
			if c.interleavings > 0 {
				require.Len(t, all, c.interleavings)
			}

			if !c.failing {
				require.Zero(t, cov.Failures)
				require.Zero(t, unpruned.Coverage.Failures)
				return
			}
			// Pruning skips orders: some GETs commute.
			require.Less(t, cov.Runs, c.raw)
			require.Positive(t, cov.Failures)
			require.NotEmpty(t, failing)
			require.Less(t, len(failing), len(all), "some interleavings store once")
		})
	}
}

func TestAnExhaustiveSearchStoppedByItsBoundSaysItIsIncomplete(t *testing.T) {
	const bound = 3
	sr := searchThree(t, "legacy", bound, true)
	require.False(t, sr.Coverage.Complete)
	require.Equal(t, bound, sr.Coverage.Runs)
	require.Len(t, sr.Trials, bound)
}

// With the database lookups inside the window as well, the raw orders
// grow to 90 (setnx) and 1152 (legacy, far past the bound), yet the pruned
// search completes within the bound at an eighth of them or less: the
// lookups commute with every step of the window, so their orders fold into
// the interleavings of the narrow window, which its unpruned search counts
// independently.
func TestPruningKeepsAThreeWorkerSearchWithLookupsWithinItsBound(t *testing.T) {
	for _, strategy := range []string{"setnx", "legacy"} {
		t.Run(strategy, func(t *testing.T) {
			narrowAll, narrowFailing := classes(searchThree(t, strategy, exhaustiveBound, false))
			raw := rawOrders(strategy, 3, true)
			sched := fmt.Sprintf("{kind: exhaustive, window: [claim.lookup, claim.mark], "+
				"max_runs: %d}", exhaustiveBound)
			sr := runSerial(t, threeWayRace(strategy, sched), sim.Options{})
			cov := sr.Coverage
			all, failing := classes(sr)
			t.Logf("%s: %d runs of %d orders, %d interleavings, %d failing", strategy,
				cov.Runs, raw, len(all), len(failing))
			require.True(t, cov.Complete, "the search stopped at its bound")
			require.LessOrEqual(t, cov.Runs*8, raw, "pruning left over an eighth of the orders")
			require.Len(t, all, len(narrowAll))
			require.Len(t, failing, len(narrowFailing))
		})
	}
	require.Greater(t, rawOrders("legacy", 3, true), exhaustiveBound)
}
