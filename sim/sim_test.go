package sim_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/history"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func ctx(tb testing.TB) context.Context {
	tb.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	tb.Cleanup(cancel)
	return c
}

// scenario writes text beside the test payload and loads it.
func scenario(tb testing.TB, text string) *scenarios.Scenario {
	tb.Helper()
	dir := tb.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "single-text.json"))
	require.NoError(tb, err)
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "single-text.json"), b, 0o644))
	path := filepath.Join(dir, "s.yaml")
	require.NoError(tb, os.WriteFile(path, []byte(text), 0o644))
	sc, err := scenarios.LoadFile(path)
	require.NoError(tb, err)
	return sc
}

const race = `app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
subscribers: [{name: crm, secret: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=}]
workers: 2
deliveries: [{payload: single-text.json, copies: 2}]
strategies: [legacy]
schedule:
  kind: barrier
  barriers: [{at: claim.mark}]
`

func TestEveryShippedScenarioMeetsItsExpectation(t *testing.T) {
	b := testenv.Backend(t)
	for _, name := range scenarios.Shipped() {
		t.Run(name, func(t *testing.T) {
			sc, err := scenarios.LoadShipped(name)
			require.NoError(t, err)
			res, err := sim.RunScenario(ctx(t), b, sc, sim.Options{})
			require.NoError(t, err)
			for _, sr := range res.Strategies {
				require.True(t, sr.Held, "%s: %v", sr.Strategy, sr.Mismatches)
				require.Len(t, sr.Trials, sc.Runs)
			}
			require.True(t, res.Held)
		})
	}
}

func TestTheLegacyGuardStoresBothCopiesWhenBothPassTheirChecks(t *testing.T) {
	sc := scenario(t, race)
	tr, err := sim.RunTrial(ctx(t), testenv.Backend(t), sc,
		scenarios.Config{Strategy: "legacy", Dispatch: "direct"}, 1, sim.Options{})
	require.NoError(t, err)
	require.Equal(t, check.Fail, tr.Judgement.Verdict)
	require.Contains(t, tr.Judgement.Broken, check.NoDuplicate)
	require.Equal(t, 2, tr.Judgement.Tallies[0].Messages)
	require.Equal(t, 2, tr.Judgement.Tallies[0].WebhookIDs["/webhooks/crm"])

	// Both workers read before either wrote: both GETs answered nil
	// before the first SETEX answered.
	var checks []string
	for _, e := range tr.Events {
		if e.Phase != history.Done {
			continue
		}
		if e.Checkpoint == checkpoint.ClaimMark {
			break
		}
		if e.Checkpoint == checkpoint.ClaimCheck {
			checks = append(checks, e.Worker+" "+e.Result)
		}
	}
	require.ElementsMatch(t, []string{"W1 nil", "W2 nil"}, checks, tr.Order)
}

func TestAWrongExpectationSaysWhichIDWhichPropertyAndWhatItSaw(t *testing.T) {
	sc := scenario(t, race+"expect:\n  legacy: {messages: 1, webhooks: 1}\n")
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), sc, sim.Options{})
	require.NoError(t, err)
	require.False(t, res.Held)
	miss := strings.Join(res.Strategies[0].Mismatches, "\n")
	id := "wamid.HBgLMTU1NTAwMDAwMDIVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwMQA=#0"
	require.Contains(t, miss, id+": messages stored: expected 1, saw 2")
	require.Contains(t, miss, id+": distinct webhook ids at /webhooks/crm: expected 1, saw 2")
	require.Contains(t, miss, "property no-duplicate broke: "+id+": 2 stored messages")
}

func TestAnExpectedBugThatDoesNotAppearIsAMismatch(t *testing.T) {
	text := strings.Replace(race, "[legacy]", "[setnx]", 1) +
		"expect:\n  setnx: {broken: [no-duplicate]}\n"
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), scenario(t, text), sim.Options{})
	require.NoError(t, err)
	require.False(t, res.Held)
	require.Equal(t, []string{"run 1: expected property no-duplicate to break; it held"},
		res.Strategies[0].Mismatches)
}

func TestARunPastItsDeadlineIsUnknownAndNamesTheStuckWorkers(t *testing.T) {
	text := strings.Replace(race, "[legacy]", "[setnx]", 1) + `timeout_ms: 300
faults:
  - kind: pause
    message: wamid.HBgLMTU1NTAwMDAwMDIVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwMQA=
    at: tx.commit
    duration_ms: 60000
`
	started := time.Now()
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), scenario(t, text), sim.Options{})
	require.NoError(t, err)
	require.Less(t, time.Since(started), 30*time.Second, "the tool never hangs")
	tr := res.Strategies[0].Trials[0]
	require.Equal(t, check.Unknown, tr.Judgement.Verdict)
	// The claim's winner is held; the loser waits for the job in hand.
	require.Len(t, tr.Stuck, 2)
	require.Regexp(t, `W[12] paused at tx.commit for 1m0s`, strings.Join(tr.Stuck, "; "))
	require.False(t, res.Held)
	require.Contains(t, res.Strategies[0].Mismatches[0],
		"verdict unknown: the run passed its deadline; stuck: "+strings.Join(tr.Stuck, ", "))
}

func TestAFreeScheduleReleasedTogetherStoresEachMessageOnceUnderSetNX(t *testing.T) {
	text := `app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
subscribers: [{name: crm, secret: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=}]
workers: 4
deliveries: [{payload: single-text.json, copies: 4}]
strategies: [setnx]
schedule: {kind: free, release_together: true}
runs: 3
expect:
  setnx: {messages: 1, webhooks: 1}
`
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), scenario(t, text), sim.Options{})
	require.NoError(t, err)
	require.True(t, res.Held, "%v", res.Strategies[0].Mismatches)
}

func TestBarriersCountAWorkerBlockedOnAnotherWorkersLockAsArrived(t *testing.T) {
	// Both hold at COMMIT: the second copy's insert (db-unique) or advisory
	// lock waits for the first copy's transaction, which waits at the
	// barrier. Without lock-wait detection this would hang to the deadline.
	text := strings.Replace(race, "[legacy]", "[db-unique, advisory]", 1)
	text = strings.Replace(text, "at: claim.mark", "at: tx.commit", 1) + `timeout_ms: 10000
expect:
  db-unique: {messages: 1, webhooks: 1}
  advisory: {messages: 1, webhooks: 1}
`
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), scenario(t, text), sim.Options{})
	require.NoError(t, err)
	for _, sr := range res.Strategies {
		require.True(t, sr.Held, "%s: %v", sr.Strategy, sr.Mismatches)
		var waited bool
		for _, e := range sr.Trials[0].Events {
			if strings.HasPrefix(e.Result, "waiting for a lock held by W") {
				waited = true
			}
		}
		require.True(t, waited, "%s: no lock wait recorded", sr.Strategy)
	}
}

func TestALostAnswerIsAcceptedOnceAndResentByTheRelayWithTheSameID(t *testing.T) {
	text := `app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
subscribers:
  - {name: crm, secret: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=, lose_responses: 1}
deliveries: [{payload: single-text.json}]
strategies: [db-unique]
dispatch: [direct, outbox]
isolation: serializable
expect:
  db-unique: {messages: 1, webhooks: 1}
`
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), scenario(t, text), sim.Options{})
	require.NoError(t, err)
	require.True(t, res.Held, "%v", res.Strategies)
	deliveries := map[string]int{}
	for _, sr := range res.Strategies {
		tl := sr.Trials[0].Judgement.Tallies[0]
		deliveries[sr.Strategy] = tl.Deliveries["/webhooks/crm"]
	}
	// After COMMIT nothing retries; the outbox relay sends again.
	require.Equal(t, map[string]int{"db-unique": 1, "db-unique+outbox": 2}, deliveries)
}

func TestAConnectionLostAtCommitFailsTheJobAndTheRetryStoresIt(t *testing.T) {
	text := `app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
subscribers: [{name: crm, secret: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=}]
deliveries: [{payload: single-text.json}]
strategies: [setnx-release, db-unique]
faults: [{kind: disconnect, worker: W1, at: tx.commit, attempt: 1}]
expect:
  setnx-release: {messages: 1, webhooks: 1, outcomes: [failed, stored]}
  db-unique: {messages: 1, webhooks: 1, outcomes: [failed, stored]}
`
	res, err := sim.RunScenario(ctx(t), testenv.Backend(t), scenario(t, text), sim.Options{})
	require.NoError(t, err)
	for _, sr := range res.Strategies {
		require.True(t, sr.Held, "%s: %v", sr.Strategy, sr.Mismatches)
		require.NotEmpty(t, sr.Trials[0].JobErrors, "the first COMMIT failed")
	}
}
