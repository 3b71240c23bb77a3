package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/claim"
)

// Exhausted says what a worker does when it cannot take the mutex.
type Exhausted string

const (
	// FailJob fails the job, so the queue retries it later.
	FailJob Exhausted = "fail"
	// DropJob ends the job without storing anything.
	DropJob Exhausted = "drop"
	// Proceed goes on without the mutex.
	Proceed Exhausted = "proceed"
)

// ErrMutexBusy is returned for a job whose worker could not take the
// per-(inbox, sender) mutex and was told to fail it.
var ErrMutexBusy = errors.New("job mutex busy")

// Mutex is the per-(inbox, sender) job mutex that can be layered on any
// strategy: one job at a time per contact and inbox.
type Mutex struct {
	// TTL bounds how long a holder keeps the mutex; default 30 s.
	TTL time.Duration
	// RetryInterval is the wait between tries; default 2 s.
	RetryInterval time.Duration
	// Retries is how many times a refused worker tries again; default 0.
	Retries int
	// OwnerChecked releases only a mutex the worker holds (compare and
	// delete); otherwise release is a plain DEL, as in the original.
	OwnerChecked bool
	// OnExhausted says what happens when the tries run out; default fail.
	OnExhausted Exhausted
	// Sleep waits between tries; default a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Defaults fills in the zero fields of m.
func (m Mutex) Defaults() Mutex {
	if m.TTL == 0 {
		m.TTL = 30 * time.Second
	}
	if m.RetryInterval == 0 {
		m.RetryInterval = 2 * time.Second
	}
	if m.OnExhausted == "" {
		m.OnExhausted = FailJob
	}
	if m.Sleep == nil {
		m.Sleep = realSleep
	}
	return m
}

// mutexKey names the mutex of one contact in one inbox.
func (w *Worker) mutexKey(job Job) string {
	return fmt.Sprintf("%sCONVERSATION_LOCK::%d::%s", w.KeyPrefix, job.Inbox.ID,
		job.Message.From)
}

// acquire tries to take the mutex; it reports whether the worker holds it.
func (w *Worker) acquire(ctx context.Context, tr checkpoint.Tracer, key, owner string) (bool, error) {
	m := w.Mutex.Defaults()
	cmd := fmt.Sprintf("SET %s NX EX %d", key, int(m.TTL.Seconds()))
	for try := 0; ; try++ {
		if err := tr.Enter(ctx, checkpoint.LockAcquire, cmd); err != nil {
			return false, err
		}
		ok, err := w.Redis.SetNX(ctx, key, owner, m.TTL).Result()
		tr.Done(ctx, checkpoint.LockAcquire, cmd, okOrNil(ok), err)
		if err != nil {
			return false, fmt.Errorf("take mutex %s: %w", key, err)
		}
		if ok || try >= m.Retries {
			return ok, nil
		}
		if err := m.Sleep(ctx, m.RetryInterval); err != nil {
			return false, err
		}
	}
}

// release lets the mutex go at checkpoint lock.release, as the original
// does in its cleanup whether or not the worker took it.
func (w *Worker) release(ctx context.Context, tr checkpoint.Tracer, key, owner string) error {
	cmd := "DEL " + key
	if w.Mutex.OwnerChecked {
		cmd = "compare-and-delete " + key
	}
	if err := tr.Enter(ctx, checkpoint.LockRelease, cmd); err != nil {
		return err
	}
	var n int64
	var err error
	if w.Mutex.OwnerChecked {
		n, err = claim.ReleaseIfOwner(ctx, w.Redis, key, owner)
	} else {
		n, err = w.Redis.Del(ctx, key).Result()
	}
	tr.Done(ctx, checkpoint.LockRelease, cmd, fmt.Sprintf("(integer) %d", n), err)
	if err != nil {
		return fmt.Errorf("release mutex %s: %w", key, err)
	}
	return nil
}

func okOrNil(ok bool) string {
	if ok {
		return "OK"
	}
	return "nil"
}

func realSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
