package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/queue"
	"github.com/dedupsim/dedupsim/sim/backend"
)

// queueJobKind is the kind of the queue cell's jobs.
const queueJobKind = "message"

// runQueueOnce measures the durable queue alone: every delivery of the
// workload is enqueued first, untimed, and then the workers take and
// complete jobs until none is left. The flow cells take their jobs from
// a channel instead, so that they measure the guards and not the queue;
// this row says what the queue would add per job.
func (b *bencher) runQueueOnce(ctx context.Context, workers int,
	lat *latencies) (Sample, error) {
	run, err := b.backend.NewRun(ctx, backend.RunOptions{MaxConns: int32(workers + 4)})
	if err != nil {
		return Sample{}, fmt.Errorf("prepare run: %w", err)
	}
	defer run.Close(context.WithoutCancel(ctx))
	q, err := queue.New(queue.Config{DB: run.DB, Queue: "bench"})
	if err != nil {
		return Sample{}, err
	}
	n, err := b.enqueueAll(ctx, q)
	if err != nil {
		return Sample{}, err
	}

	m := startMeter()
	start := time.Now()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range workers {
		wg.Go(func() {
			if err := drain(ctx, q, lat); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s := newSample(n, time.Since(start), m.finish())
	left, err := q.Remaining(ctx)
	s.Correctness = Correctness{Messages: n, Lost: left, Errors: len(errs)}
	if len(errs) > 0 {
		s.FirstError = errs[0].Error()
	}
	return s, err
}

// enqueueAll enqueues every delivery of the workload, copies included.
func (b *bencher) enqueueAll(ctx context.Context, q *queue.Queue) (int, error) {
	n := 0
	for i, m := range b.work.messages {
		copies := 1
		if _, ok := b.work.gaps[i]; ok {
			copies = 2
		}
		payload, err := json.Marshal(flow.Job{Message: m, Attempt: 1})
		if err != nil {
			return 0, fmt.Errorf("encode job %s: %w", m.ID, err)
		}
		for range copies {
			if _, err := q.Enqueue(ctx, queueJobKind, payload, time.Time{}); err != nil {
				return 0, err
			}
			n++
		}
	}
	return n, nil
}

// drain takes and completes jobs until none is ready.
func drain(ctx context.Context, q *queue.Queue, lat *latencies) error {
	for {
		start := time.Now()
		l, err := q.Take(ctx)
		if err != nil || l == nil {
			return err
		}
		if err := l.Complete(ctx); err != nil {
			return err
		}
		lat.add(jobTiming{total: time.Since(start)})
	}
}
