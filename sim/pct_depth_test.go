package sim_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// lostClaimRace is a race that needs two preemptions. The setnx claim is
// never released, so a second claim of the same message succeeds only once
// Redis has lost its keys: here Redis restarts when either worker comes
// back for its third job. The queue holds a message from another contact
// first, then two copies of one message.
//
// Call A the worker that fetches first: it takes the other contact's
// message. The message is stored twice when
//
//  1. B fetches only after A's first fetch, so that B holds one copy and
//     A gets the other as its second job;
//  2. B looks its copy up before A commits the other one;
//  3. B sets its claim only after A has come back for its third job and
//     Redis has restarted.
//
// B's SET NX then succeeds, B takes a claim A still holds and stores the
// message a second time.
//
// Depth 3: the failing orders preempt A once, anywhere from its first
// fetch to the insert of its copy (15 places), and B once, right after its
// lookup. With one preemption an order is P's first steps, all of Q, the
// rest of P, and none of those fails. P took the other contact's message.
// If P is preempted in that job, Q takes both copies, stores one and finds
// it when it looks up the other, all before P takes any. If P gets as far
// as a copy first, Q's copy is Q's first job: Q never comes back a third
// time, Redis keeps every key, and P's claim is refused or P's lookup
// finds Q's row. TestTheLostClaimRaceNeedsTwoPreemptions runs each of
// those orders.
func lostClaimRace(sched string) string {
	return fmt.Sprintf(`app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
workers: 2
deliveries:
  - {text: {id: wamid.OTHER-CONTACT, from: "15550000009", name: Beta, body: first}}
  - {payload: single-text.json, copies: 2}
strategies: [setnx]
faults:
  - {kind: redis-restart, worker: W1, at: job.fetch, occurrence: 3}
  - {kind: redis-restart, worker: W2, at: job.fetch, occurrence: 3}
schedule: %s
expect:
  setnx: {observe: true}
`, sched)
}

// lostClaimRuns is how many seeded runs each scheduler gets.
const lostClaimRuns = 100

// lostClaimK is pct's max_steps for the race. A run takes 20 to 26 steps,
// but both preemptions the race needs can come within the first few: the
// earliest failing order preempts A after step 1 and B after step 3.
// Change points drawn among the first 8 steps land on such a pair far more
// often than change points spread over the whole run, most of which fall
// where they change nothing: with max_steps 20, the length of a passing
// run, seeds 1 to 4 found the race in 1, 2, 2 and 6 runs of 100. PCT's
// bound 1/(n·k^(d−1)) holds for a bug whose preemptions fall within the
// first k steps: here 1/(2·8²).
const lostClaimK = 8

// lostClaimFailures counts the failing runs of sr, each of which must be a
// duplicate, and checks that every run finished with a verdict.
func lostClaimFailures(t *testing.T, sr sim.StrategyResult) int {
	t.Helper()
	require.Len(t, sr.Trials, lostClaimRuns)
	n := 0
	for _, tr := range sr.Trials {
		require.NotNil(t, tr.Serial)
		require.Empty(t, tr.Serial.Ended, "run %d", tr.Run)
		require.NotEqual(t, check.Unknown, tr.Judgement.Verdict, "run %d", tr.Run)
		if tr.Judgement.Verdict == check.Fail {
			n++
			require.Contains(t, tr.Judgement.Broken, check.NoDuplicate,
				"run %d: %v", tr.Run, tr.Serial.Steps)
		}
	}
	require.NotNil(t, sr.Coverage)
	require.Equal(t, n, sr.Coverage.Failures)
	return n
}

// Why random rarely finds it: from A's first fetch to its third, A takes
// 16 steps, and B may take only its fetch and its lookup among A's first
// 14 of them and nothing among the last two. A uniform choice at every
// step does that with probability C(16,2)/2^18, about 1 in 2,200. PCT
// needs only its two change points to land right: A's anywhere in its
// first steps, B's right after its lookup. Among the first 8 steps that
// happens with probability about 6 in 64.
func TestPCTDepthThreeFindsTheLostClaimRaceFarMoreOftenThanRandom(t *testing.T) {
	random := lostClaimFailures(t, runSerial(t, lostClaimRace("{kind: random, seed: 1}"),
		sim.Options{Runs: lostClaimRuns}))
	sr := runSerial(t, lostClaimRace(fmt.Sprintf(
		"{kind: pct, depth: 3, seed: 1, max_steps: %d}", lostClaimK)),
		sim.Options{Runs: lostClaimRuns})
	pct := lostClaimFailures(t, sr)

	bound := sr.Coverage.Bound
	require.Equal(t, schedule.PCTBound(2, lostClaimK, 3), bound)
	rate := float64(pct) / float64(lostClaimRuns)
	t.Logf("lost claim race over %d runs: random seed 1 stores the message twice "+
		"in %d; pct depth 3 seed 1 k=%d in %d: rate %.3f (95%% interval %.3f to "+
		"%.3f), bound 1/(n·k²) = %.4f", lostClaimRuns, random, lostClaimK, pct,
		rate, sr.Coverage.Low, sr.Coverage.High, bound)
	require.Positive(t, pct)
	require.GreaterOrEqual(t, pct, 2*random)
	require.GreaterOrEqual(t, rate, bound)
}

// Every order with one preemption passes, and the orders with two pass or
// fail as the account above says. The scenario treats W1 and W2 alike, so
// the one-preemption orders that start with W1 are those below with the
// workers' names swapped. After a script's last step the lowest-named
// waiting worker goes first, so ["W2*x"] is W2's first x steps, W1 to its
// end, then the rest of W2, and ["W1*x", "W2*2"] preempts W1 after x steps
// and W2 after its lookup.
func TestTheLostClaimRaceNeedsTwoPreemptions(t *testing.T) {
	verdict := func(steps string) check.Verdict {
		t.Helper()
		sr := runSerial(t, lostClaimRace("{kind: script, steps: ["+steps+"]}"),
			sim.Options{})
		require.Len(t, sr.Trials, 1)
		tr := sr.Trials[0]
		require.Empty(t, tr.Serial.Ended, steps)
		return tr.Judgement.Verdict
	}
	// Run alone, W2 finishes in 19 steps: the other contact's message, one
	// copy stored, the other found by its lookup, and the fetch that finds
	// nothing left.
	require.Equal(t, check.Pass, verdict(`W1`), "W1 to its end, then W2")
	for x := 1; x <= 19; x++ {
		steps := fmt.Sprintf(`"W2*%d"`, x)
		require.Equal(t, check.Pass, verdict(steps), steps)
	}
	// W1 can be preempted anywhere in its first 15 steps: from its first
	// fetch to the insert of its copy, the step before its COMMIT.
	for x := 1; x <= 15; x++ {
		steps := fmt.Sprintf(`"W1*%d", "W2*2"`, x)
		require.Equal(t, check.Fail, verdict(steps), steps)
	}
	// Preempted after its COMMIT, W1 has stored the copy B looks up.
	require.Equal(t, check.Pass, verdict(`"W1*16", "W2*2"`))
	// Preempted after its fetch only, W2 looks up once W1 has committed.
	require.Equal(t, check.Pass, verdict(`"W1*3", "W2*1"`))
	// Preempted after its claim, W2 holds the copy's claim before W1
	// claims: W1's claim is refused.
	require.Equal(t, check.Pass, verdict(`"W1*3", "W2*3"`))
}
