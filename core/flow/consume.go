package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/queue"
)

// Poll bounds how long an idle Consume waits between looks at the queue:
// it starts at a millisecond and doubles up to Poll.
const Poll = 16 * time.Millisecond

// Settled is what became of one leased job, as Consume reports it.
type Settled struct {
	// Job is the decoded payload, with the lease's attempt.
	Job Job
	// Result and Err are what Process returned.
	Result Result
	Err    error
	// Retried says a failed job is due again; false for a dead one.
	Retried bool
}

// Consume takes jobs from q and processes them, one at a time, until ctx
// ends; it then returns nil. A job that fails is handed back to the queue
// for its next attempt; a job that crashes the worker is released, as a
// dying process would leave it. report, when set, is told of each job.
// Only a queue that cannot be read ends Consume with an error.
func (w *Worker) Consume(ctx context.Context, q *queue.Queue,
	report func(Settled)) error {
	tr := checkpoint.Tracer{Hook: w.Hook, Worker: w.Name}
	for {
		if err := tr.Enter(ctx, checkpoint.JobFetch, "queue"); err != nil {
			return nil
		}
		lease, err := take(ctx, q)
		if lease == nil {
			tr.Done(ctx, checkpoint.JobFetch, "queue", "stopped", err)
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s := w.runLease(ctx, tr, lease)
		if report != nil {
			report(s)
		}
	}
}

// take waits for a job until one is ready or ctx ends.
func take(ctx context.Context, q *queue.Queue) (*queue.Lease, error) {
	wait := time.Millisecond
	for {
		lease, err := q.Take(ctx)
		if err != nil || lease != nil {
			return lease, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, Poll)
	}
}

// runLease processes a leased job and ends the lease by its outcome.
func (w *Worker) runLease(ctx context.Context, tr checkpoint.Tracer,
	lease *queue.Lease) Settled {
	var s Settled
	if err := json.Unmarshal(lease.Payload, &s.Job); err != nil {
		// A payload nobody can read fails every attempt and ends dead.
		s.Err = fmt.Errorf("decode job %d: %w", lease.ID, err)
		s.Retried, _ = lease.Fail(context.WithoutCancel(ctx), s.Err)
		return s
	}
	s.Job.Attempt = lease.Attempt
	tr.ForJob(s.Job.Message.ID, s.Job.Attempt).Done(ctx, checkpoint.JobFetch,
		"queue", fmt.Sprintf("job %s attempt %d", s.Job.Message.ID, s.Job.Attempt),
		nil)

	s.Result, s.Err = w.Process(ctx, s.Job)
	end := context.WithoutCancel(ctx)
	switch {
	case ctx.Err() != nil, errors.Is(s.Err, checkpoint.ErrCrash):
		lease.Release()
	case s.Err != nil:
		retried, err := lease.Fail(end, s.Err)
		s.Retried = retried
		s.Err = errors.Join(s.Err, err)
	default:
		s.Err = lease.Complete(end)
	}
	return s
}
