// Package checkpoint names the steps of the reference flow and carries the
// hook through which a simulator watches and steers a worker.
//
// A worker passes a checkpoint just before the step's I/O and reports the
// step's outcome right after it. Outside the simulator the hook is nil and
// passing a checkpoint costs one comparison.
package checkpoint

import (
	"context"
	"errors"
	"slices"
)

// Name is the stable name of one step of the flow, such as "tx.commit".
type Name string

// The checkpoints of the reference flow, in the order a worker meets them.
const (
	IngestAccepted      Name = "ingest.accepted"
	JobFetch            Name = "job.fetch"
	LockAcquire         Name = "lock.acquire"
	ClaimLookup         Name = "claim.lookup"
	ClaimCheck          Name = "claim.check"
	ClaimMark           Name = "claim.mark"
	ContactUpsert       Name = "contact.upsert"
	TxBegin             Name = "tx.begin"
	ClaimLock           Name = "claim.lock"
	ConversationResolve Name = "conversation.resolve"
	MediaFetch          Name = "media.fetch"
	MessageInsert       Name = "message.insert"
	ClaimClear          Name = "claim.clear"
	TxCommit            Name = "tx.commit"
	ClaimRelease        Name = "claim.release"
	LockRelease         Name = "lock.release"
	DispatchEnqueue     Name = "dispatch.enqueue"
	WebhookSend         Name = "webhook.send"
	WebhookAck          Name = "webhook.ack"
	OutboxMark          Name = "outbox.mark"
)

// All lists every checkpoint in flow order.
var All = []Name{
	IngestAccepted, JobFetch, LockAcquire, ClaimLookup, ClaimCheck,
	ClaimMark, ContactUpsert, TxBegin, ClaimLock, ConversationResolve,
	MediaFetch, MessageInsert, ClaimClear, TxCommit, ClaimRelease,
	LockRelease, DispatchEnqueue, WebhookSend, WebhookAck, OutboxMark,
}

// Known reports whether n is one of the flow's checkpoints.
func Known(n Name) bool { return slices.Contains(All, n) }

// ErrCrash is returned by a hook that has killed the worker at a
// checkpoint: the worker must stop at once and run none of its cleanup,
// as a process that died would.
var ErrCrash = errors.New("worker crashed")

// ErrUnknown is wrapped by errors about a checkpoint name that the flow does
// not have.
var ErrUnknown = errors.New("unknown checkpoint")

// Point is where a worker stands when it passes a checkpoint.
type Point struct {
	// Worker names the worker, such as "W1".
	Worker string
	// Name is the checkpoint.
	Name Name
	// Job names the job the worker is processing (its provider message id),
	// empty at job.fetch before a job is taken.
	Job string
	// Attempt counts the worker's attempts at this job, from 1.
	Attempt int
	// Detail says what the step is about to read or write: a Redis key, a
	// table and key, a URL.
	Detail string
	// PID is the Postgres backend pid of the connection the worker's open
	// transaction runs on, 0 when it has none.
	PID uint32
}

// Outcome is what a step did, recorded right after its I/O.
type Outcome struct {
	// Result is the step's reply in a few words: "OK", "nil", "1 row",
	// "HTTP 200".
	Result string
	// Err is the step's error, if it failed.
	Err error
}

// Hook watches and steers workers. Enter is called before a step's I/O and
// may hold the worker there; an error it returns fails the step as if the
// step itself had failed. Done records the step's outcome.
type Hook interface {
	Enter(ctx context.Context, p Point) error
	Done(ctx context.Context, p Point, out Outcome)
}

// Tracer binds a hook to one worker and job. The zero Tracer passes every
// checkpoint at once and records nothing.
type Tracer struct {
	Hook    Hook
	Worker  string
	Job     string
	Attempt int
	// PID is the backend pid of the worker's open transaction, if any.
	PID uint32
}

// Enter passes checkpoint n. detail says what the step will touch.
func (t Tracer) Enter(ctx context.Context, n Name, detail string) error {
	if t.Hook == nil {
		return nil
	}
	return t.Hook.Enter(ctx, t.point(n, detail))
}

// Done records the outcome of the step at checkpoint n.
func (t Tracer) Done(ctx context.Context, n Name, detail, result string, err error) {
	if t.Hook == nil {
		return
	}
	t.Hook.Done(ctx, t.point(n, detail), Outcome{Result: result, Err: err})
}

// ForJob returns a copy of t bound to job and attempt.
func (t Tracer) ForJob(job string, attempt int) Tracer {
	t.Job = job
	t.Attempt = attempt
	return t
}

func (t Tracer) point(n Name, detail string) Point {
	return Point{Worker: t.Worker, Name: n, Job: t.Job, Attempt: t.Attempt,
		Detail: detail, PID: t.PID}
}
