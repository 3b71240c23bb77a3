package sim_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/external"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/history"
)

// BenchmarkSchedules runs the two-copy race of the legacy guard under the
// random scheduler, one serialized run per op, each with its own seed: a
// fresh database and key space, the run, its judgement and its schedule.
// schedules/s is how many orders a backend tries per second;
// fails/schedule the share of them that stored the message twice.
func BenchmarkSchedules(b *testing.B) {
	b.Run("backend=embedded", func(b *testing.B) {
		schedules(b, testenv.Backend(b))
	})
	b.Run("backend=external", func(b *testing.B) {
		pg, rd := os.Getenv("DATABASE_URL"), os.Getenv("REDIS_URL")
		if pg == "" || rd == "" {
			b.Skip("DATABASE_URL and REDIS_URL name no servers for the external backend")
		}
		bk, err := external.New(context.Background(), external.Config{
			PostgresURL: pg, RedisURL: rd})
		require.NoError(b, err)
		b.Cleanup(func() { require.NoError(b, bk.Close()) })
		schedules(b, bk)
	})
}

func schedules(b *testing.B, bk backend.Backend) {
	sc := scenario(b, serialRace("legacy", "{kind: random, seed: 1}"))
	fails := 0
	for seed := int64(1); b.Loop(); seed++ {
		sc.Schedule.Seed = seed
		res, err := sim.RunScenario(context.Background(), bk, sc, sim.Options{Runs: 1})
		require.NoError(b, err)
		tr := res.Strategies[0].Trials[0]
		require.NotNil(b, tr.Serial)
		require.Empty(b, tr.Serial.Ended, tr.Serial.Replay)
		if tr.Judgement.Verdict == check.Fail {
			fails++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "schedules/s")
	b.ReportMetric(float64(fails)/float64(b.N), "fails/schedule")
}

// BenchmarkExhaustive runs the whole exhaustive search of the legacy
// guard over the window claim.lookup..claim.mark, with two workers and two
// copies and with three and three, one search per op, on the embedded
// backend. runs/op is the search's size, ns/run the cost of one run.
func BenchmarkExhaustive(b *testing.B) {
	for _, workers := range []int{2, 3} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			sched := fmt.Sprintf("{kind: exhaustive, window: %s, max_runs: %d}",
				claimWindow, exhaustiveBound)
			text := serialRace("legacy", sched)
			if workers == 3 {
				text = threeWayRace("legacy", sched)
			}
			sc := scenario(b, text)
			require.Equal(b, workers, sc.Workers)
			bk := testenv.Backend(b)
			runs := 0
			for b.Loop() {
				res, err := sim.RunScenario(context.Background(), bk, sc, sim.Options{})
				require.NoError(b, err)
				cov := res.Strategies[0].Coverage
				require.True(b, cov.Complete, "the search stopped at its bound")
				require.Positive(b, cov.FailingInterleavings)
				runs += cov.Runs
			}
			b.ReportMetric(float64(runs)/float64(b.N), "runs/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(runs), "ns/run")
		})
	}
}

// BenchmarkLockWaitInRun measures the simulator's lock-wait detection in a
// whole run: two copies, both workers held at COMMIT, so one waits in
// Postgres for the other's transaction: db-unique's message.insert for
// its uncommitted unique key, advisory's claim.lock for its advisory lock.
// ns/detect is the time from the blocked worker entering the step that
// waits to the run's history noting the wait, once the lock watcher has
// told the controller; waits/op counts the waits seen.
func BenchmarkLockWaitInRun(b *testing.B) {
	text := strings.Replace(race, "[legacy]", "[db-unique, advisory]", 1)
	text = strings.Replace(text, "at: claim.mark", "at: tx.commit", 1) +
		"timeout_ms: 10000\n"
	sc := scenario(b, text)
	bk := testenv.Backend(b)
	for _, st := range []string{"db-unique", "advisory"} {
		b.Run("strategy="+st, func(b *testing.B) {
			cfg := scenarios.Config{Strategy: st, Dispatch: "direct"}
			var total time.Duration
			waits := 0
			for i := 0; b.Loop(); i++ {
				tr, err := sim.RunTrial(context.Background(), bk, sc, cfg, i+1, sim.Options{})
				require.NoError(b, err)
				require.Equal(b, check.Pass, tr.Judgement.Verdict, tr.Order)
				lat := waitLatencies(tr.Events)
				require.NotEmpty(b, lat, "no lock wait noted: %s", tr.Order)
				for _, d := range lat {
					total += d
				}
				waits += len(lat)
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(waits), "ns/detect")
			b.ReportMetric(float64(waits)/float64(b.N), "waits/op")
		})
	}
}

// waitLatencies returns, for each wait a run's history notes, the time
// since its worker entered the step it waits in.
func waitLatencies(events []history.Event) []time.Duration {
	entered := map[string]time.Duration{}
	var out []time.Duration
	for _, e := range events {
		switch {
		case e.Phase == history.Enter:
			entered[e.Worker] = e.At
		case e.Phase == history.Note &&
			strings.HasPrefix(e.Result, "waiting for a lock held by "):
			if at, ok := entered[e.Worker]; ok {
				out = append(out, e.At-at)
				delete(entered, e.Worker) // one wait per step
			}
		}
	}
	return out
}
