package sim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim/history"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// execute feeds the deliveries to the workers and waits for every worker
// to finish or for the deadline. It reports whether the deadline passed.
func (e *runEnv) execute(ctx context.Context, t *Trial) (bool, error) {
	names := scenarios.WorkerNames(e.sc.Workers)
	e.rec = history.NewRecorder(time.Now)
	e.ctl = schedule.New(schedule.Config{Workers: names, Recorder: e.rec,
		Barriers: barriers(e.sc, e.strategy), Faults: faults(e.sc, e.strategy)})

	runCtx, cancel := context.WithTimeout(ctx, e.sc.Timeout())
	defer cancel()
	jobs := make(chan flow.Job, e.jobCount())
	var wg sync.WaitGroup
	wg.Go(func() { e.feed(runCtx, jobs, t) })
	for _, name := range names {
		w, err := e.worker(name)
		if err != nil {
			cancel()
			wg.Wait()
			return false, err
		}
		wg.Go(func() { e.work(runCtx, w, jobs) })
	}
	wg.Wait()

	if ctx.Err() != nil {
		return false, fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
	}
	return errors.Is(runCtx.Err(), context.DeadlineExceeded), nil
}

func (e *runEnv) jobCount() int {
	n := 0
	for _, a := range e.sc.Arrivals {
		n += len(a.Parsed.Messages)
	}
	return n
}

// feed hands each copy to ingest at its time: the signature is verified,
// every message routed to its inbox becomes a job, the rest is counted.
func (e *runEnv) feed(ctx context.Context, jobs chan<- flow.Job, t *Trial) {
	defer close(jobs)
	start := time.Now()
	for _, a := range e.sc.Arrivals {
		if !wait(ctx, a.At-time.Since(start)) {
			return
		}
		if err := meta.Verify(e.sc.AppSecret, a.Body, a.Signature); err != nil {
			e.rec.Add(history.Event{Worker: "ingest", Phase: history.Note,
				Result: "rejected", Err: err.Error()})
			continue
		}
		t.Statuses += len(a.Parsed.Statuses)
		for _, m := range a.Parsed.Messages {
			in, ok := e.inboxes[m.PhoneNumberID]
			if !ok {
				t.Unroutable++
				continue
			}
			jobs <- flow.Job{Message: m, Inbox: in, Attempt: 1}
		}
	}
}

// work is one worker's loop: fetch a job, process it, until the queue is
// closed and empty or the run ends.
func (e *runEnv) work(ctx context.Context, w *flow.Worker, jobs <-chan flow.Job) {
	defer e.ctl.Finished(w.Name)
	tr := checkpoint.Tracer{Hook: e.ctl, Worker: w.Name}
	for {
		if err := tr.Enter(ctx, checkpoint.JobFetch, "queue"); err != nil {
			return
		}
		var job flow.Job
		var ok bool
		select {
		case job, ok = <-jobs:
		case <-ctx.Done():
		}
		if !ok {
			tr.Done(ctx, checkpoint.JobFetch, "queue", "closed", ctx.Err())
			return
		}
		tr.ForJob(job.Message.ID, job.Attempt).
			Done(ctx, checkpoint.JobFetch, "queue", "job "+job.Message.ID, nil)
		res, err := w.Process(ctx, job)
		e.ctl.JobEnded(w.Name)
		if err != nil {
			e.jobFailed(w.Name, job, err)
		}
		e.rec.Add(history.Event{Worker: w.Name, Phase: history.Note, Job: job.Message.ID,
			Attempt: job.Attempt, Result: res.Outcome.String(), Err: errString(err)})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// wait sleeps for d, or returns false when ctx ends first.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// barriers resolves the scenario's barriers for one strategy.
func barriers(sc *scenarios.Scenario, strategy string) []schedule.Barrier {
	var out []schedule.Barrier
	if sc.Schedule.ReleaseTogether {
		at := map[string]checkpoint.Name{}
		for _, w := range scenarios.WorkerNames(sc.Workers) {
			at[w] = checkpoint.JobFetch
		}
		out = append(out, schedule.Barrier{At: at})
	}
	for _, b := range sc.Schedule.Barriers {
		at := map[string]checkpoint.Name{}
		for _, w := range b.Workers {
			if n, ok := b.PerWorker[w]; ok {
				at[w] = checkpoint.Name(n)
			} else {
				at[w] = scenarios.CheckpointFor(b.At, b.PerStrategy, strategy)
			}
		}
		out = append(out, schedule.Barrier{At: at})
	}
	return out
}

// faults resolves the scenario's faults for one strategy.
func faults(sc *scenarios.Scenario, strategy string) []schedule.Fault {
	var out []schedule.Fault
	for _, f := range sc.Faults {
		out = append(out, schedule.Fault{Kind: schedule.Kind(f.Kind),
			Worker: f.Worker, Job: f.Message,
			At:         scenarios.CheckpointFor(f.At, f.PerStrategy, strategy),
			Occurrence: f.Occurrence, Attempt: f.Attempt,
			For: time.Duration(f.DurationMS) * time.Millisecond})
	}
	return out
}
