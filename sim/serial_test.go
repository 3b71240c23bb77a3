package sim_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// serialRace is two copies of one message under a serialized schedule.
func serialRace(strategy, sched string) string {
	return fmt.Sprintf(`app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
subscribers: [{name: crm, secret: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=}]
workers: 2
deliveries: [{payload: single-text.json, copies: 2}]
strategies: [%s]
schedule: %s
expect:
  %s: {observe: true}
`, strategy, sched, strategy)
}

func runSerial(t *testing.T, text string, opts sim.Options) sim.StrategyResult {
	t.Helper()
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), scenario(t, text), opts)
	require.NoError(t, err)
	require.Len(t, res.Strategies, 1)
	return res.Strategies[0]
}

func TestAFailingPCTRunReplaysWithTheSameOrderAndVerdictTenTimes(t *testing.T) {
	text := serialRace("legacy", "{kind: pct, depth: 2, seed: 1}")
	sr := runSerial(t, text, sim.Options{Runs: 20})
	var failing *sim.Trial
	for i := range sr.Trials {
		if sr.Trials[i].Judgement.Verdict == check.Fail {
			failing = &sr.Trials[i]
			break
		}
	}
	require.NotNil(t, failing, "pct seed 1 found no failure in 20 runs")
	cmd := sim.ReplayCommand("s.yaml", *failing)

	again := runSerial(t, text, sim.Options{Replay: failing.Serial.Replay, Runs: 10})
	require.Len(t, again.Trials, 10)
	for _, tr := range again.Trials {
		require.Equal(t, failing.Serial.Steps, tr.Serial.Steps, cmd)
		require.Equal(t, check.Fail, tr.Judgement.Verdict, cmd)
		require.Equal(t, failing.Judgement.Broken, tr.Judgement.Broken, cmd)
	}
}

func TestAReplayThatCannotBeFollowedSaysWhereItDiverged(t *testing.T) {
	tok := schedule.Token{Config: "setnx", Scheduler: "script",
		Steps: []schedule.ScriptStep{{Worker: "W1", At: "job.fetch"},
			{Worker: "W1", At: "claim.mark"}}}
	sr := runSerial(t, serialRace("setnx", "{kind: random, seed: 1}"),
		sim.Options{Replay: tok.Encode()})
	tr := sr.Trials[0]
	require.Equal(t, check.Unknown, tr.Judgement.Verdict)
	require.Contains(t, tr.Serial.Ended, "step 2")
	require.Contains(t, tr.Serial.Ended, "W1 is at claim.lookup")
}

// explored runs an exhaustive search and returns its runs, the distinct
// interleavings and the failing ones, each as the sorted canonical orders.
func explored(t *testing.T, strategy, window string, prune bool) (int, []string,
	[]string) {
	t.Helper()
	sched := fmt.Sprintf("{kind: exhaustive, window: %s, no_prune: %t}", window, !prune)
	sr := runSerial(t, serialRace(strategy, sched), sim.Options{})
	require.NotNil(t, sr.Coverage)
	require.True(t, sr.Coverage.Complete)
	all, failing := map[string]bool{}, map[string]bool{}
	for _, tr := range sr.Trials {
		require.Empty(t, tr.Serial.Ended, tr.Serial.Replay)
		if tr.Serial.Redundant {
			continue
		}
		all[tr.Serial.Class] = true
		if tr.Judgement.Verdict == check.Fail {
			failing[tr.Serial.Class] = true
		}
	}
	return len(sr.Trials), keys(all), keys(failing)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// By hand, for a window from claim.lookup to claim.mark: workers before
// the window go first and those past it last, so every COMMIT comes after
// every step inside it, and the lookups (reads) commute with everything
// inside. setnx: l1 m1 and l2 m2 merge in C(4,2) = 6 orders; only the order
// of the two SET NX matters: 2 interleavings, neither fails. legacy: l, c
// (GET) and m (SETEX) merge in C(6,3) = 20 orders; an interleaving is fixed
// by which SETEX comes first and whether the other's GET comes before it:
// 2 × 2 = 4, of which the 2 with both GETs first store a duplicate.
// setnx-release releases only after COMMIT: as setnx. db-unique and
// advisory, over tx.begin to tx.commit, are counted by the unpruned search.
func TestExhaustiveSearchCountsPerStrategy(t *testing.T) {
	cases := []struct {
		strategy, window string
		// raw runs (every feasible order), interleavings, failing ones
		raw, classes, failing int
	}{
		{"setnx", "[claim.lookup, claim.mark]", 6, 2, 0},
		{"legacy", "[claim.lookup, claim.mark]", 20, 4, 2},
		{"setnx-release", "[claim.lookup, claim.mark]", 6, 2, 0},
		{"db-unique", "[tx.begin, tx.commit]", 50, 14, 0},
		{"advisory", "[tx.begin, tx.commit]", 36, 8, 0},
	}
	for _, c := range cases {
		t.Run(c.strategy+" in "+c.window, func(t *testing.T) {
			raw, all, failing := explored(t, c.strategy, c.window, false)
			runs, prunedAll, prunedFailing := explored(t, c.strategy, c.window, true)
			t.Logf("%s: %d raw runs, %d pruned runs, %d interleavings, failing:\n%s",
				c.strategy, raw, runs, len(all), strings.Join(failing, "\n"))
			require.Equal(t, c.raw, raw)
			require.Len(t, all, c.classes)
			require.Len(t, failing, c.failing)
			require.Equal(t, all, prunedAll, "pruning lost an interleaving")
			require.Equal(t, failing, prunedFailing)
			require.Less(t, runs, raw)
		})
	}
}

func TestAFailingScheduleShrinksToTheStepsThatMatter(t *testing.T) {
	sc, err := scenarios.LoadShipped("scripted-original-race")
	require.NoError(t, err)
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), sc,
		sim.Options{Runs: 1})
	require.NoError(t, err)
	failing := res.Strategies[0].Trials[0]
	require.Equal(t, check.Fail, failing.Judgement.Verdict)

	got, err := sim.ShrinkSchedule(ctx(t), testenv.Backend(t), sc,
		failing.Serial.Replay, sim.Options{})
	require.NoError(t, err, sim.ReplayCommand(sc.Name, failing))
	// Both GETs before either SETEX, and both SETEX before the first
	// worker's DEL, or the claim is not held twice at once: with fewer
	// steps fixed, W1 runs ahead to its DEL before W2 sets the key.
	require.Equal(t, 8, got.Steps, got.Token)
	require.Equal(t, len(failing.Serial.Steps), got.Of)
	require.Contains(t, got.Broken, check.NoDuplicate)
	tok, err := schedule.ParseToken(got.Token)
	require.NoError(t, err)
	require.Equal(t, "W2:claim.mark", tok.Steps[7].Worker+":"+string(tok.Steps[7].At))
}

func TestAReplayOfAnotherScenariosConfigurationIsAnError(t *testing.T) {
	tok := schedule.Token{Config: "advisory", Scheduler: "script"}
	_, err := sim.RunScenario(ctx(t), testenv.Backend(t),
		scenario(t, serialRace("setnx", "{kind: random}")),
		sim.Options{Replay: tok.Encode()})
	require.ErrorIs(t, err, schedule.ErrToken)
}
