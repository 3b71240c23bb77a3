package sim_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
)

// bigRace is the original race with more of everything: workers and
// copies of the message, extra other messages arriving later, and pauses
// of the last workers long after the race is decided. Every worker is
// held at the barrier, so each must get a copy: copies ≥ workers. Only two
// workers and two copies of the one message matter.
func bigRace(workers, copies, others, pauses int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `name: big-race
app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
subscribers: [{name: crm, secret: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=}]
workers: %d
deliveries:
  - text: {id: wamid.RACE, from: "15550000001", body: hello}
    copies: %d
`, workers, copies)
	for i := range others {
		fmt.Fprintf(&b, `  - text: {id: wamid.OTHER-%d, from: "1555000010%d", body: later}
    at_ms: 20
`, i, i)
	}
	fmt.Fprintf(&b, `strategies: [legacy, setnx]
schedule:
  kind: barrier
  barriers: [{at: claim.mark}]
`)
	if pauses > 0 {
		b.WriteString("faults:\n")
	}
	for i := range pauses {
		fmt.Fprintf(&b, "  - {kind: pause, worker: W%d, at: webhook.send, duration_ms: 5}\n",
			workers-i%workers)
	}
	b.WriteString("expect:\n  legacy: {observe: true}\n  setnx: {observe: true}\n")
	return b.String()
}

func TestShrinkingAFourWorkerFourCopyOriginalRaceLeavesTwoOfEach(t *testing.T) {
	// As shipped: the duplicate and its second webhook gated, the second
	// conversation and the claim held twice shown but not gated.
	sc := scenario(t, strings.Replace(strings.Replace(race, "workers: 2", "workers: 4", 1),
		"copies: 2", "copies: 4", 1)+`expect:
  legacy:
    broken: [no-duplicate, one-webhook]
    ignore: [one-conversation, exclusive-claim]
`)
	require.Equal(t, 4, sc.Workers)
	var tried []string
	got, err := sim.ShrinkScenario(ctx(t), testenv.Backend(t), sc, sim.ShrinkSpec{
		Config: "legacy",
		Progress: func(step string, fails bool) {
			tried = append(tried, fmt.Sprintf("%s: fails=%t", step, fails))
		}}, sim.Options{Runs: 2})
	require.NoError(t, err, strings.Join(tried, "\n"))
	t.Logf("%d runs; tried:\n%s", got.Runs, strings.Join(tried, "\n"))
	require.Equal(t, scenarios.Reduction{Workers: 2, Copies: []int{2}, Faults: []bool{}},
		got.Reduction, "kept: %v", got.Steps)
	require.Equal(t, []string{"workers 4 → 2", "deliveries[0].copies 4 → 2"}, got.Steps)
	require.Equal(t, []check.Property{check.NoDuplicate, check.OneWebhook}, got.Broken)

	// The shrunk scenario, written out and read back, still fails.
	data, err := got.Scenario.Marshal()
	require.NoError(t, err)
	again, err := scenarios.Parse("shrunk.yaml", data, nil)
	require.NoError(t, err, "%s", data)
	require.Equal(t, 2, again.Workers)
	require.Len(t, again.Arrivals, 2)
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), again, sim.Options{Runs: 2})
	require.NoError(t, err)
	for _, tr := range res.Strategies[0].Trials {
		require.Equal(t, check.Fail, tr.Judgement.Verdict)
		require.Subset(t, tr.Judgement.Broken, got.Broken)
	}
}

func TestShrinkingAPassingConfigurationSaysItDoesNotFail(t *testing.T) {
	sc := scenario(t, strings.Replace(race, "strategies: [legacy]",
		"strategies: [legacy, setnx]", 1))
	b := testenv.Backend(t)
	_, err := sim.ShrinkScenario(ctx(t), b, sc, sim.ShrinkSpec{Config: "setnx"},
		sim.Options{Runs: 1})
	require.ErrorIs(t, err, sim.ErrNoFailure)
	_, err = sim.ShrinkScenario(ctx(t), b, sc, sim.ShrinkSpec{Config: "legacy",
		Properties: []check.Property{check.NoLoss}}, sim.Options{Runs: 1})
	require.ErrorIs(t, err, sim.ErrNoFailure)
	require.ErrorContains(t, err, "s under legacy breaking [no-loss] does not fail")

	_, err = sim.ShrinkScenario(ctx(t), b, sc, sim.ShrinkSpec{}, sim.Options{})
	require.ErrorIs(t, err, sim.ErrConfig)
	require.ErrorContains(t, err, "name the one to shrink (legacy, setnx)")
	_, err = sim.ShrinkScenario(ctx(t), b, sc, sim.ShrinkSpec{Config: "advisory"}, sim.Options{})
	require.ErrorIs(t, err, sim.ErrConfig)
}

func TestAShrunkSerializedRunKeepsATokenThatStillFails(t *testing.T) {
	sc := scenario(t, threeWayRace("legacy", "{kind: random, seed: 1}"))
	require.Equal(t, 3, sc.Workers)
	got, err := sim.ShrinkScenario(ctx(t), testenv.Backend(t), sc,
		sim.ShrinkSpec{Config: "legacy", Properties: []check.Property{check.NoDuplicate}},
		sim.Options{Runs: 20})
	require.NoError(t, err)
	require.Equal(t, 2, got.Reduction.Workers, got.Steps)
	require.Equal(t, []int{2}, got.Reduction.Copies)
	require.NotNil(t, got.Schedule)
	require.LessOrEqual(t, got.Schedule.Steps, got.Schedule.Of)
	require.Subset(t, got.Schedule.Broken, got.Broken)
	t.Logf("%v; schedule: %d of %d steps fixed, %d runs in all", got.Steps,
		got.Schedule.Steps, got.Schedule.Of, got.Runs)

	// The shrunk schedule's token replays the failure on the shrunk
	// scenario.
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), got.Scenario,
		sim.Options{Replay: got.Schedule.Token})
	require.NoError(t, err)
	require.Equal(t, check.Fail, res.Strategies[0].Trials[0].Judgement.Verdict)
}

// Whatever is added around the race — more workers, more copies, other
// messages, faults that come after the race is decided — shrinking finds
// the same two workers and two copies of the one message. rapid draws the
// additions, and would shrink any counterexample to the smallest.
func TestShrinkingAlwaysFindsTheTwoCopiesThatRace(t *testing.T) {
	checks := "4"
	if os.Getenv("DEDUPSIM_EXPLORE") == "1" {
		checks = "40" // make explore
	}
	setFlag(t, "rapid.checks", checks)
	setFlag(t, "rapid.nofailfile", "true")
	b := testenv.Backend(t)

	rapid.Check(t, func(rt *rapid.T) {
		workers := rapid.IntRange(2, 5).Draw(rt, "workers")
		copies := rapid.IntRange(workers, 6).Draw(rt, "copies")
		others := rapid.IntRange(0, 2).Draw(rt, "others")
		pauses := rapid.IntRange(0, 2).Draw(rt, "pauses")
		sc, err := scenarios.Parse("big-race.yaml",
			[]byte(bigRace(workers, copies, others, pauses)), nil)
		require.NoError(rt, err)
		got, err := sim.ShrinkScenario(ctx(t), b, sc, sim.ShrinkSpec{Config: "legacy",
			Properties: []check.Property{check.NoDuplicate}}, sim.Options{Runs: 1})
		require.NoError(rt, err)
		want := scenarios.Reduction{Workers: 2, Copies: []int{2}, Faults: make([]bool, pauses)}
		for range others {
			want.Copies = append(want.Copies, 0)
		}
		require.Equal(rt, want, got.Reduction, "kept: %v", got.Steps)
	})
}

// setFlag sets a command-line flag for the rest of the test.
func setFlag(t *testing.T, name, value string) {
	f := flag.Lookup(name)
	require.NotNil(t, f, name)
	old := f.Value.String()
	require.NoError(t, f.Value.Set(value))
	t.Cleanup(func() { _ = f.Value.Set(old) })
}
