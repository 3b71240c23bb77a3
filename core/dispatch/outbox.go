package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/store"
)

// Enqueue writes ev to the transactional outbox through tx, the message's
// own transaction, at checkpoint dispatch.enqueue: the event commits or
// rolls back with the row, and its webhook id stays the same however often
// the relay sends it.
func Enqueue(ctx context.Context, tr checkpoint.Tracer, tx store.Querier, ev Event) error {
	id := WebhookID(ev)
	if err := tr.Enter(ctx, checkpoint.DispatchEnqueue, "outbox "+id); err != nil {
		return err
	}
	body, err := json.Marshal(ev)
	if err == nil {
		_, err = store.RecordEvent(ctx, tx, store.Event{WebhookID: id, MessageID: ev.ID,
			Payload: body}, false)
	}
	tr.Done(ctx, checkpoint.DispatchEnqueue, "outbox "+id, "1 row", err)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", id, err)
	}
	return nil
}

// Relay delivers outbox events: it locks the oldest unsent event, POSTs it
// to every subscriber and marks it sent in the same transaction. A relay
// that dies between the POST and the mark leaves the event unsent, and the
// next pass sends it again with the same webhook id.
type Relay struct {
	// DB holds the outbox.
	DB *pgxpool.Pool
	// Sender POSTs events.
	Sender *Direct
	// Tracer passes the relay's checkpoints.
	Tracer checkpoint.Tracer
}

// Once delivers the oldest unsent event. It reports false when there was
// none to deliver.
func (r *Relay) Once(ctx context.Context) (bool, error) {
	conn, err := r.DB.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("relay: %w", err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("relay: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	ev, ok, err := store.NextUnsent(ctx, tx)
	if err != nil || !ok {
		return false, err
	}
	tr := r.Tracer.ForJob(ev.WebhookID, 1)
	tr.PID = conn.Conn().PgConn().PID()
	if err := r.Sender.Send(ctx, tr, ev.WebhookID, ev.Payload); err != nil {
		return true, fmt.Errorf("relay %s: %w", ev.WebhookID, err)
	}
	if err := tr.Enter(ctx, checkpoint.OutboxMark, ev.WebhookID); err != nil {
		return true, fmt.Errorf("relay %s: %w", ev.WebhookID, err)
	}
	err = store.MarkSent(ctx, tx, ev.ID)
	if err == nil {
		err = tx.Commit(ctx)
	}
	tr.Done(ctx, checkpoint.OutboxMark, ev.WebhookID, "sent", err)
	if err != nil {
		return true, fmt.Errorf("relay %s: %w", ev.WebhookID, err)
	}
	return true, nil
}

// Run delivers events until ctx ends, waiting poll between empty passes.
// A pass that fails is logged and the relay goes on, as a restarted relay
// process would.
func (r *Relay) Run(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for ctx.Err() == nil {
		sent, err := r.Once(ctx)
		if err != nil && ctx.Err() == nil {
			r.Sender.log.WarnContext(ctx, "relay pass failed", "error", err)
		}
		if sent {
			continue
		}
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}
