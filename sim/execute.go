package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/queue"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim/clock"
	"github.com/dedupsim/dedupsim/sim/history"
	"github.com/dedupsim/dedupsim/sim/lockwait"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// poll is how often an idle worker looks for a job, and how often the
// feeder looks at the clock.
const poll = 2 * time.Millisecond

// maxPoll is the longest an idle worker waits between looks at the queue.
const maxPoll = 16 * time.Millisecond

// jumpAfter is the shortest wait the clock skips: when every worker is
// idle and nothing is due for at least this long, the clock moves straight
// to the next arrival or retry.
const jumpAfter = 250 * time.Millisecond

// jobKind is the kind of the queue's jobs: one provider message each.
const jobKind = "message"

// execute feeds the deliveries through the durable queue to the workers
// and waits for every worker to finish or for the deadline. It reports
// whether the deadline passed.
func (e *runEnv) execute(ctx context.Context, t *Trial) (bool, error) {
	names := scenarios.WorkerNames(e.sc.Workers)
	if err := e.prepare(names); err != nil {
		return false, err
	}
	runCtx, cancel := context.WithTimeout(ctx, e.sc.Timeout())
	defer cancel()

	e.stop = cancel
	var wg sync.WaitGroup
	e.startFeed(runCtx, t, &wg)
	relayCtx, stopRelay := context.WithCancel(runCtx)
	defer stopRelay()
	wg.Go(func() { e.watchLocks(relayCtx) })
	wg.Go(func() {
		<-relayCtx.Done()
		if runCtx.Err() != nil {
			e.ctl.Freeze() // keep where each worker stood at the deadline
		}
	})
	if e.cfg.Dispatch == "outbox" {
		wg.Go(func() { e.relay(relayCtx) })
	}
	var workers sync.WaitGroup
	for _, name := range names {
		w, err := e.worker(name)
		if err != nil {
			cancel()
			wg.Wait()
			return false, err
		}
		workers.Go(func() { e.work(runCtx, w) })
	}
	workers.Wait()
	e.drainOutbox(runCtx)
	stopRelay()
	wg.Wait()

	if ctx.Err() != nil {
		return false, fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
	}
	return errors.Is(runCtx.Err(), context.DeadlineExceeded) || e.aborted(), nil
}

// prepare makes the run's clock, queue and controller.
func (e *runEnv) prepare(names []string) error {
	e.clock = clock.New(e.run.FastForward)
	e.rec = history.NewRecorder(time.Now)
	q, err := queue.New(queue.Config{DB: e.run.DB, Now: e.clock.Now,
		Queue: "run-" + e.run.ID})
	if err != nil {
		return fmt.Errorf("set up queue: %w", err)
	}
	e.queue = q
	e.live.Store(int32(len(names)))
	e.ctl = schedule.New(schedule.Config{Workers: names, Recorder: e.rec,
		Barriers: barriers(e.sc, e.strategy), Faults: faults(e.sc, e.strategy),
		Kill: e.kill, RestartRedis: e.run.RestartRedis,
		Chooser: e.chooser, Abort: e.abort})
	return nil
}

// feed hands each copy to ingest when the clock reaches its time: the
// signature is verified, every message routed to an inbox becomes a
// durable job, the rest is counted.
func (e *runEnv) feed(ctx context.Context, t *Trial) {
	defer e.fed.Store(true)
	start := e.clock.Now()
	for _, a := range e.sc.Arrivals {
		due := start.Add(a.At)
		e.nextArrival.Store(due.UnixNano())
		for e.clock.Now().Before(due) {
			if clock.Sleep(ctx, min(poll, due.Sub(e.clock.Now()))) != nil {
				return
			}
		}
		if err := e.ingest(ctx, a, t); err != nil {
			e.rec.Add(history.Event{Worker: "ingest", Phase: history.Note,
				Result: "rejected", Err: err.Error()})
		}
	}
	e.nextArrival.Store(0)
}

// ingest verifies one copy and enqueues a job per routed message.
func (e *runEnv) ingest(ctx context.Context, a scenarios.Arrival, t *Trial) error {
	if e.sc.Ingest.HTTP() {
		return e.ingestHTTP(ctx, a, t)
	}
	if err := meta.Verify(e.sc.AppSecret, a.Body, a.Signature); err != nil {
		return err
	}
	t.Statuses += len(a.Parsed.Statuses)
	for _, m := range a.Parsed.Messages {
		in, ok := e.inboxes[m.PhoneNumberID]
		if !ok {
			t.Unroutable++
			continue
		}
		payload, err := json.Marshal(flow.Job{Message: m, Inbox: in})
		if err != nil {
			return fmt.Errorf("encode job %s: %w", m.ID, err)
		}
		if _, err := e.queue.Enqueue(ctx, jobKind, payload, e.clock.Now()); err != nil {
			return fmt.Errorf("enqueue %s: %w", m.ID, err)
		}
	}
	return nil
}

// work is one worker's loop: take a job, process it, settle it with the
// queue, until every job is done or the run ends. A crashed worker comes
// back as a fresh process and goes on taking jobs.
func (e *runEnv) work(ctx context.Context, w *flow.Worker) {
	defer e.live.Add(-1)
	defer func() {
		// A worker stopped by the deadline keeps where it stood.
		if ctx.Err() == nil {
			e.ctl.Finished(w.Name)
		}
	}()
	tr := checkpoint.Tracer{Hook: e.ctl, Worker: w.Name}
	for {
		if err := tr.Enter(ctx, checkpoint.JobFetch, "queue"); err != nil {
			return
		}
		lease, err := e.take(ctx, w.Name)
		if lease == nil {
			tr.Done(ctx, checkpoint.JobFetch, "queue", "no more jobs", err)
			return
		}
		e.process(ctx, w, tr, lease)
	}
}

// process runs one leased job and settles the lease by its outcome.
func (e *runEnv) process(ctx context.Context, w *flow.Worker, tr checkpoint.Tracer,
	lease *queue.Lease) {
	var job flow.Job
	if err := json.Unmarshal(lease.Payload, &job); err != nil {
		lease.Release()
		e.jobFailed(w.Name, job, fmt.Errorf("decode job %d: %w", lease.ID, err))
		return
	}
	job.Attempt = lease.Attempt
	tr.ForJob(job.Message.ID, job.Attempt).Done(ctx, checkpoint.JobFetch, "queue",
		fmt.Sprintf("job %s attempt %d", job.Message.ID, job.Attempt), nil)
	e.ctl.SetLease(w.Name, lease.PID)
	res, err := w.Process(ctx, job)
	e.ctl.SetLease(w.Name, 0)
	e.ctl.JobEnded(w.Name)

	outcome := res.Outcome.String()
	settle := context.WithoutCancel(ctx)
	switch {
	case ctx.Err() != nil:
		lease.Release()
		outcome = "stopped: the run ended"
	case errors.Is(err, checkpoint.ErrCrash):
		lease.Release()
		outcome = "crashed; the job goes back to the queue"
	case err != nil:
		e.jobFailed(w.Name, job, err)
		retried, ferr := lease.Fail(settle, err)
		outcome = map[bool]string{true: "failed; retry scheduled",
			false: "failed; no attempts left"}[retried]
		err = errors.Join(err, ferr)
	default:
		err = lease.Complete(settle)
	}
	e.rec.Add(history.Event{Worker: w.Name, Phase: history.Note, Job: job.Message.ID,
		Attempt: job.Attempt, Result: outcome, Err: errString(err)})
}

// take leases the next ready job. While none is ready it waits, moving
// the clock ahead when every worker waits; it returns nil once the feeder
// is done and no job is left, or when ctx ends.
func (e *runEnv) take(ctx context.Context, worker string) (*queue.Lease, error) {
	e.idle.Add(1)
	idle := true
	defer func() {
		if idle {
			e.idle.Add(-1)
		}
	}()
	defer e.ctl.SetIdle(worker, false)
	wait := poll
	for {
		lease, err := e.lease(ctx)
		if lease != nil {
			idle = false
		}
		if err != nil || lease != nil {
			return lease, err
		}
		fed := e.fed.Load()
		left, err := e.queue.Remaining(ctx)
		if err != nil {
			return nil, err
		}
		if fed && left == 0 {
			return nil, nil
		}
		e.ctl.SetIdle(worker, true) // a serialized run goes on without it
		if err := e.jump(ctx); err != nil {
			return nil, err
		}
		if err := clock.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		// An idle worker looks less often the longer it waits, so that
		// ten idle workers do not keep Postgres busy.
		wait = min(2*wait, maxPoll)
	}
}

// lease takes the next ready job, if any. A worker that gets one stops
// counting as idle before a clock jump can look again: otherwise another
// worker's jump could see every worker idle, miss the job just taken in
// the queue, and move the clock a day ahead under it, expiring the keys
// its job had just set.
func (e *runEnv) lease(ctx context.Context) (*queue.Lease, error) {
	e.jumpMu.RLock()
	defer e.jumpMu.RUnlock()
	lease, err := e.queue.Take(ctx)
	if lease != nil {
		e.idle.Add(-1)
	}
	return lease, err
}

// jump moves the clock to the next arrival or retry when every live worker
// is idle and that moment is at least jumpAfter away: nothing can happen
// before it but waiting.
func (e *runEnv) jump(ctx context.Context) error {
	e.jumpMu.Lock()
	defer e.jumpMu.Unlock()
	if e.idle.Load() < e.live.Load() || e.relayBusy.Load() {
		return nil
	}
	// Read the next arrival before the queue: the feeder enqueues a copy
	// before it moves on to the next, so a copy is never missed between.
	arrival := e.nextArrival.Load()
	next, ok, err := e.queue.NextRunAt(ctx)
	if err != nil {
		return err
	}
	if arrival != 0 {
		at := time.Unix(0, arrival)
		if !ok || at.Before(next) {
			next, ok = at, true
		}
	}
	if !ok || next.Sub(e.clock.Now()) < jumpAfter {
		return nil
	}
	d := next.Sub(e.clock.Now())
	e.rec.Add(history.Event{Worker: "sim", Phase: history.Note,
		Result: "clock advanced " + d.Round(time.Millisecond).String()})
	return e.clock.AdvanceTo(ctx, next)
}

// kill terminates Postgres backends and waits until they are gone, so a
// crashed worker's transaction has ended before the run goes on.
func (e *runEnv) kill(ctx context.Context, pids []uint32) error {
	ids := make([]int32, len(pids))
	for i, p := range pids {
		ids[i] = int32(p)
	}
	_, err := e.run.DB.Exec(ctx,
		`SELECT pg_terminate_backend(p) FROM unnest($1::int4[]) AS p`, ids)
	if err != nil {
		return fmt.Errorf("terminate backends %v: %w", pids, err)
	}
	for {
		var alive int
		err := e.run.DB.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE pid = ANY($1::int4[])`, ids).Scan(&alive)
		if err != nil || alive == 0 {
			return err
		}
		if err := clock.Sleep(ctx, poll); err != nil {
			return err
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
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
		if f.Kind == "dispatch-twice" {
			continue
		}
		out = append(out, schedule.Fault{Kind: schedule.Kind(f.Kind),
			Worker: f.Worker, Job: f.Message,
			At:         scenarios.CheckpointFor(f.At, f.PerStrategy, strategy),
			Occurrence: f.Occurrence, Attempt: f.Attempt,
			For: time.Duration(f.DurationMS) * time.Millisecond})
	}
	return out
}

// watchLocks polls Postgres for workers blocked on another backend's lock
// while ctx lasts, and tells the controller who waits for whom.
func (e *runEnv) watchLocks(ctx context.Context) {
	for clock.Sleep(ctx, poll) == nil {
		e.ctl.Polled()
		steps := e.ctl.InStep()
		if len(steps) == 0 {
			continue
		}
		pids := make([]uint32, 0, len(steps))
		for _, pid := range steps {
			pids = append(pids, pid)
		}
		blockers, err := lockwait.Blockers(ctx, e.run.DB, pids)
		if err != nil {
			continue // the next poll tries again; a crash may have cut a backend
		}
		for w, pid := range steps {
			e.ctl.SetBlockedAt(w, pid, e.holders(blockers[pid]))
		}
	}
}

// holders names the workers behind backend pids.
func (e *runEnv) holders(pids []uint32) string {
	var names []string
	for _, pid := range pids {
		name := e.ctl.Owner(pid)
		if name == "" {
			name = fmt.Sprintf("backend %d", pid)
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}
