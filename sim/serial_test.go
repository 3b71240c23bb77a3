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
	tok := schedule.Token{Config: "advisory", Scheduler: "script",
		Steps: []schedule.ScriptStep{{Worker: "W1", At: "job.fetch"}}}
	sc := scenario(t, serialRace("setnx", "{kind: random}"))
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), sc,
		sim.Options{Replay: tok.Encode()})
	require.ErrorIs(t, err, schedule.ErrToken)
	require.ErrorIs(t, err, sim.ErrRefused)
	require.ErrorContains(t, err, "scenario "+sc.Name+" has no configuration advisory")
	require.Empty(t, res.Strategies, "nothing runs")
}

func TestAReplayNamingAWorkerTheScenarioLacksIsRefusedBeforeItRuns(t *testing.T) {
	sc := scenario(t, serialRace("legacy", "{kind: random, seed: 1}"))
	for _, w := range []string{"W9", "W0", "W01"} {
		tok := schedule.Token{Config: "legacy", Scheduler: "script",
			Steps: []schedule.ScriptStep{{Worker: "W1", At: "job.fetch"},
				{Worker: w, At: "job.fetch"}}}
		res, err := sim.RunScenario(ctx(t), testenv.Backend(t), sc,
			sim.Options{Replay: tok.Encode()})
		require.ErrorIs(t, err, schedule.ErrToken, w)
		require.ErrorIs(t, err, sim.ErrRefused, w)
		require.EqualError(t, err, "bad replay token: step 2 names worker "+w+
			"; scenario "+sc.Name+" has W1 and W2")
		require.Empty(t, res.Strategies, "nothing runs")
	}
}

func TestAReplayOfARunWithMoreWorkersIsRefusedBeforeItRuns(t *testing.T) {
	three := runSerial(t, threeWayRace("legacy", "{kind: random, seed: 1}"),
		sim.Options{Runs: 1})
	require.Contains(t, strings.Join(three.Trials[0].Serial.Steps, " "), "W3:")

	sc := scenario(t, serialRace("legacy", "{kind: random, seed: 1}"))
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), sc,
		sim.Options{Replay: three.Trials[0].Serial.Replay})
	require.ErrorIs(t, err, schedule.ErrToken)
	require.ErrorContains(t, err, "names worker W3; scenario "+sc.Name+" has W1 and W2")
	require.Empty(t, res.Strategies, "nothing runs")
}

func TestAReplayWithNoStepsIsRefusedBeforeItRuns(t *testing.T) {
	tok := schedule.Token{Config: "legacy", Scheduler: "script"}
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t),
		scenario(t, serialRace("legacy", "{kind: random, seed: 1}")),
		sim.Options{Replay: tok.Encode()})
	require.ErrorIs(t, err, schedule.ErrToken)
	require.EqualError(t, err, "bad replay token: it has no steps")
	require.Empty(t, res.Strategies, "nothing runs")
}

func TestAReplayAtACheckpointTheConfigurationNeverPassesIsRefusedBeforeItRuns(t *testing.T) {
	// Without a job mutex, no worker passes lock.acquire.
	tok := schedule.Token{Config: "setnx", Scheduler: "pct depth=99",
		Steps: []schedule.ScriptStep{{Worker: "W1", At: "job.fetch"},
			{Worker: "W2", At: "lock.acquire"}}}
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t),
		scenario(t, serialRace("setnx", "{kind: random, seed: 1}")),
		sim.Options{Replay: tok.Encode()})
	require.ErrorIs(t, err, schedule.ErrToken)
	require.EqualError(t, err, "bad replay token: step 2, W2:lock.acquire: setnx "+
		"never passes checkpoint lock.acquire")
	require.Empty(t, res.Strategies, "nothing runs")
}

func TestAReplayIgnoresTheSettingsOfTheSchedulerItCameFrom(t *testing.T) {
	// pct depth=99 is not the scenario's scheduler, and a depth no pct
	// run would use: the steps fix the order, and the settings only say
	// where they came from.
	steps := []string{"W1:job.fetch", "W2:job.fetch", "W1:claim.lookup",
		"W2:claim.lookup"}
	script, err := schedule.ParseScript(steps)
	require.NoError(t, err)
	tok := schedule.Token{Config: "setnx", Scheduler: "pct depth=99", Steps: script}
	sr := runSerial(t, serialRace("setnx", "{kind: random, seed: 1}"),
		sim.Options{Replay: tok.Encode()})
	tr := sr.Trials[0]
	require.Empty(t, tr.Serial.Ended)
	require.Equal(t, steps, tr.Serial.Steps[:len(steps)])
	require.Equal(t, "replay of pct depth=99", tr.Serial.Scheduler)
}
