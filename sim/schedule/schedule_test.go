package schedule

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim/history"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func point(w string, n checkpoint.Name) checkpoint.Point {
	return checkpoint.Point{Worker: w, Name: n}
}

func controller(b ...Barrier) *Controller {
	return New(Config{Workers: []string{"W1", "W2"}, Barriers: b,
		Recorder: history.NewRecorder(nil)})
}

func TestABarrierHoldsTheFirstWorkerUntilTheSecondArrives(t *testing.T) {
	c := controller(Barrier{At: map[string]checkpoint.Name{
		"W1": checkpoint.ClaimMark, "W2": checkpoint.ClaimMark}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	passed := make(chan error, 1)
	go func() { passed <- c.Enter(ctx, point("W1", checkpoint.ClaimMark)) }()
	require.Eventually(t, func() bool {
		return len(c.Stuck()) == 2 && c.Stuck()[0] == "W1 held at barrier claim.mark"
	}, 5*time.Second, time.Millisecond)
	select {
	case <-passed:
		t.Fatal("W1 passed the barrier alone")
	default:
	}

	require.NoError(t, c.Enter(ctx, point("W2", checkpoint.ClaimMark)))
	require.NoError(t, <-passed)
}

func TestABarrierCountsAWorkerWhoseJobEndedAsArrived(t *testing.T) {
	c := controller(Barrier{At: map[string]checkpoint.Name{
		"W1": checkpoint.ClaimMark, "W2": checkpoint.ClaimMark}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.JobEnded("W2")
	require.NoError(t, c.Enter(ctx, point("W1", checkpoint.ClaimMark)))
}

func TestABarrierOpensOnce(t *testing.T) {
	c := controller(Barrier{At: map[string]checkpoint.Name{"W1": checkpoint.TxBegin,
		"W2": checkpoint.TxBegin}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range []string{"W1", "W2"} {
		wg.Go(func() { require.NoError(t, c.Enter(ctx, point(w, checkpoint.TxBegin))) })
	}
	wg.Wait()
	require.NoError(t, c.Enter(ctx, point("W1", checkpoint.TxBegin)), "second pass waits")
}

func TestAWorkerHeldPastTheDeadlineGetsErrDeadline(t *testing.T) {
	c := controller(Barrier{At: map[string]checkpoint.Name{
		"W1": checkpoint.TxCommit, "W2": checkpoint.TxCommit}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := c.Enter(ctx, point("W1", checkpoint.TxCommit))
	require.ErrorIs(t, err, ErrDeadline)
	require.Equal(t, []string{"W1 held at barrier tx.commit", "W2 not started"}, c.Stuck())
}

func TestAPauseWaitsItsDurationOnTheChosenPassOnly(t *testing.T) {
	var slept []time.Duration
	c := New(Config{Workers: []string{"W1"}, Recorder: history.NewRecorder(nil),
		Faults: []Fault{{Kind: Pause, Worker: "W1", At: checkpoint.TxCommit,
			Occurrence: 2, For: 200 * time.Millisecond}},
		Sleep: func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			return nil
		}})
	ctx := context.Background()
	require.NoError(t, c.Enter(ctx, point("W1", checkpoint.TxCommit)))
	require.Empty(t, slept)
	require.NoError(t, c.Enter(ctx, point("W1", checkpoint.TxCommit)))
	require.Equal(t, []time.Duration{200 * time.Millisecond}, slept)
	require.NoError(t, c.Enter(ctx, point("W1", checkpoint.TxCommit)))
	require.Len(t, slept, 1)
}

func TestEveryStepIsRecordedInOrder(t *testing.T) {
	rec := history.NewRecorder(nil)
	c := New(Config{Workers: []string{"W1"}, Recorder: rec})
	ctx := context.Background()
	require.NoError(t, c.Enter(ctx, point("W1", checkpoint.ClaimLookup)))
	c.Done(ctx, point("W1", checkpoint.ClaimLookup), checkpoint.Outcome{Result: "none"})
	require.NoError(t, c.Enter(ctx, point("W1", checkpoint.ClaimMark)))
	ev := rec.Events()
	require.Len(t, ev, 3)
	require.Equal(t, "none", ev[1].Result)
	require.Equal(t, "W1:claim.lookup W1:claim.mark", history.Order(ev))
}

func TestAnErrorFaultFailsTheStepOnTheChosenAttemptOnly(t *testing.T) {
	c := New(Config{Workers: []string{"W1"}, Recorder: history.NewRecorder(nil),
		Faults: []Fault{{Kind: Error, At: checkpoint.MediaFetch, Attempt: 1}}})
	ctx := context.Background()
	p := point("W1", checkpoint.MediaFetch)
	p.Attempt = 1
	require.ErrorIs(t, c.Enter(ctx, p), ErrInjected)
	p.Attempt = 2
	require.NoError(t, c.Enter(ctx, p))
}

func TestACrashKillsTheWorkersBackendsAndTellsItToDie(t *testing.T) {
	var killed []uint32
	c := New(Config{Workers: []string{"W1"}, Recorder: history.NewRecorder(nil),
		Faults: []Fault{{Kind: Crash, Worker: "W1", At: checkpoint.MediaFetch}},
		Kill: func(_ context.Context, pids []uint32) error {
			killed = append(killed, pids...)
			return nil
		}})
	c.SetLease("W1", 41)
	p := point("W1", checkpoint.MediaFetch)
	p.PID = 42
	require.ErrorIs(t, c.Enter(context.Background(), p), checkpoint.ErrCrash)
	require.Equal(t, []uint32{42, 41}, killed)
}
