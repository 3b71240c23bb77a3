// Package flow is the worker of the reference flow: for one provider
// message it claims, upserts the contact, opens a transaction, finds or
// creates the conversation, inserts the message, commits, and dispatches
// the message_created webhook. Every step passes its checkpoint.
package flow

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/store"
)

// Job is one provider message routed to an inbox.
type Job struct {
	// Message is the parsed provider message.
	Message meta.Message
	// Inbox is the inbox its phone number id routes to.
	Inbox store.Inbox
	// Attempt counts deliveries of this job to a worker, from 1.
	Attempt int
}

// Dispatcher sends the webhooks of a stored message row.
type Dispatcher interface {
	Dispatch(ctx context.Context, tr checkpoint.Tracer, ev dispatch.Event) error
}

// Worker processes jobs one at a time. Its fields are set once and read
// by Process; one Worker must not process two jobs at once.
type Worker struct {
	// Name names the worker in checkpoints, such as "W1".
	Name string
	// DB is the pool the worker takes connections from.
	DB *pgxpool.Pool
	// Redis holds claim keys.
	Redis *redis.Client
	// KeyPrefix starts every Redis key the worker writes.
	KeyPrefix string
	// Namespace is the first key of the worker's advisory locks, so that
	// runs sharing a server do not share locks.
	Namespace int32
	// Strategy is the dedup guard.
	Strategy claim.Strategy
	// Dispatcher sends webhooks after COMMIT; nil sends none.
	Dispatcher Dispatcher
	// Outbox writes each event to the transactional outbox inside the
	// message's transaction instead; a relay sends them.
	Outbox bool
	// DispatchCalls is how many times the after-commit hook runs per
	// commit: 1, or 2 to inject a hook that fires twice. 0 means 1.
	DispatchCalls int
	// Hook watches the worker's checkpoints; nil outside the simulator.
	Hook checkpoint.Hook
	// Mutex, when set, takes a per-(inbox, sender) job mutex around the
	// whole job.
	Mutex *Mutex
	// Isolation is the level of the job's transaction; the zero value is
	// READ COMMITTED. Other levels retry a transaction that fails to
	// serialize.
	Isolation pgx.TxIsoLevel
	// Media downloads a media message's attachment inside the
	// transaction, as the original does; nil skips the download.
	Media MediaFetcher
}

// MediaFetcher downloads the attachment of a media message and says what
// it got, such as "34 bytes".
type MediaFetcher interface {
	Fetch(ctx context.Context, m meta.Media) (string, error)
}

// Outcome says what a job came to.
type Outcome int

const (
	// Stored means the worker inserted and committed the message's rows.
	Stored Outcome = iota + 1
	// Duplicate means the guard decided another copy has the message.
	Duplicate
	// Dropped means the worker gave the job up without storing it: it
	// could not take the job mutex and was told to drop the job.
	Dropped
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Stored:
		return "stored"
	case Duplicate:
		return "duplicate"
	case Dropped:
		return "dropped"
	}
	return "unknown"
}

// Result is what Process did with a job.
type Result struct {
	Outcome Outcome
	// Rows are the committed rows when Outcome is Stored.
	Rows []store.Message
	// DispatchErr is the error of a webhook delivery; it does not undo the
	// stored rows.
	DispatchErr error
}

// ownerSeq makes every claim and mutex owner token unique.
var ownerSeq atomic.Uint64

// ErrNoParts is returned for a message that carries nothing to store.
var ErrNoParts = errors.New("message has no parts")

// Process runs the whole flow for one job. An error means the job failed
// and may be retried; the strategy has been told to abandon its claim.
func (w *Worker) Process(ctx context.Context, job Job) (Result, error) {
	if len(job.Message.Parts) == 0 {
		return Result{}, fmt.Errorf("process %s: %w", job.Message.ID, ErrNoParts)
	}
	tr := checkpoint.Tracer{Hook: w.Hook, Worker: w.Name}.
		ForJob(job.Message.ID, job.Attempt)
	// The token is new for every call: a crashed worker's redelivered
	// job has the same attempt number, and must not pass for its owner.
	owner := fmt.Sprintf("%s/%s/%d/%d", w.Name, job.Message.ID, job.Attempt,
		ownerSeq.Add(1))
	if w.Mutex == nil {
		return w.guarded(ctx, tr, job, owner)
	}
	return w.withMutex(ctx, tr, job, owner)
}

// withMutex runs the job under the per-(inbox, sender) mutex. Like the
// original, its cleanup releases the mutex whether or not it was taken.
func (w *Worker) withMutex(ctx context.Context, tr checkpoint.Tracer, job Job,
	owner string) (res Result, err error) {
	key := w.mutexKey(job)
	defer func() {
		if errors.Is(err, checkpoint.ErrCrash) {
			return // a dead process cleans nothing up
		}
		if rerr := w.release(context.WithoutCancel(ctx), tr, key, owner); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	held, err := w.acquire(ctx, tr, key, owner)
	if err != nil {
		return Result{}, fmt.Errorf("process %s: %w", job.Message.ID, err)
	}
	if !held {
		switch w.Mutex.Defaults().OnExhausted {
		case DropJob:
			return Result{Outcome: Dropped}, nil
		case FailJob:
			return Result{}, fmt.Errorf("process %s: %w", job.Message.ID, ErrMutexBusy)
		}
	}
	return w.guarded(ctx, tr, job, owner)
}

// guarded runs the dedup guard and, if it lets the worker through, stores
// and dispatches the message.
func (w *Worker) guarded(ctx context.Context, tr checkpoint.Tracer, job Job,
	owner string) (Result, error) {
	call := &claim.Call{
		Tracer: tr, DB: w.DB, Redis: w.Redis, KeyPrefix: w.KeyPrefix,
		Inbox: job.Inbox, SourceID: job.Message.ID, Namespace: w.Namespace,
		Owner: owner,
	}
	ok, err := w.Strategy.Claim(ctx, call)
	if err != nil || !ok {
		return w.settle(ctx, call, Result{Outcome: Duplicate}, err)
	}
	res, err := w.store(ctx, tr, call, job)
	if err != nil || res.Outcome != Stored {
		return w.settle(ctx, call, res, err)
	}
	if err := w.Strategy.AfterCommit(ctx, call); err != nil {
		return res, fmt.Errorf("after commit %s: %w", job.Message.ID, err)
	}
	for range max(w.DispatchCalls, 1) {
		res.DispatchErr = errors.Join(res.DispatchErr, w.dispatch(ctx, tr, job, res.Rows))
	}
	return res, nil
}

// settle ends a job that stored nothing: on an error the strategy abandons
// its claim, and both errors are returned.
func (w *Worker) settle(ctx context.Context, call *claim.Call, res Result, err error) (Result, error) {
	if err == nil {
		return res, nil
	}
	if errors.Is(err, checkpoint.ErrCrash) {
		return Result{}, fmt.Errorf("process %s: %w", call.SourceID, err)
	}
	if aerr := w.Strategy.Abandon(ctx, call); aerr != nil {
		err = errors.Join(err, fmt.Errorf("abandon claim: %w", aerr))
	}
	return Result{}, fmt.Errorf("process %s: %w", call.SourceID, err)
}

// Checkpoints lists the checkpoints a worker using s passes for a job, in
// flow order. dispatching adds the webhook checkpoints.
func Checkpoints(s claim.Strategy, dispatching, mutex, media bool) []checkpoint.Name {
	passed := map[checkpoint.Name]bool{
		checkpoint.JobFetch: true, checkpoint.ContactUpsert: true,
		checkpoint.TxBegin: true, checkpoint.ConversationResolve: true,
		checkpoint.MessageInsert: true, checkpoint.TxCommit: true,
	}
	for _, n := range s.Checkpoints() {
		passed[n] = true
	}
	if media {
		passed[checkpoint.MediaFetch] = true
	}
	if mutex {
		passed[checkpoint.LockAcquire] = true
		passed[checkpoint.LockRelease] = true
	}
	if dispatching {
		passed[checkpoint.DispatchEnqueue] = true
		passed[checkpoint.WebhookSend] = true
		passed[checkpoint.WebhookAck] = true
	}
	var out []checkpoint.Name
	for _, n := range checkpoint.All {
		if passed[n] {
			out = append(out, n)
		}
	}
	return out
}
