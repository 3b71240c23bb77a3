package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Event is an outgoing webhook event as the outbox holds it.
type Event struct {
	ID        int64
	WebhookID string
	MessageID int64
	Payload   []byte
}

// RecordEvent inserts an event unless one with its webhook id exists. It
// reports whether it inserted; sent marks the event sent at once.
func RecordEvent(ctx context.Context, q Querier, ev Event, sent bool) (bool, error) {
	sql := `INSERT INTO webhook_events (webhook_id, message_id, payload, sent_at)
		VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END)
		ON CONFLICT (webhook_id) DO NOTHING`
	tag, err := q.Exec(ctx, sql, ev.WebhookID, ev.MessageID, ev.Payload, sent)
	if err != nil {
		return false, fmt.Errorf("record event %s: %w", ev.WebhookID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// NextUnsent locks the oldest unsent event in tx, skipping events other
// relays hold. It returns false when there is none.
func NextUnsent(ctx context.Context, tx pgx.Tx) (Event, bool, error) {
	var ev Event
	err := tx.QueryRow(ctx, `SELECT id, webhook_id, message_id, payload
		FROM webhook_events WHERE sent_at IS NULL
		ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`).
		Scan(&ev.ID, &ev.WebhookID, &ev.MessageID, &ev.Payload)
	if errors.Is(err, pgx.ErrNoRows) {
		return Event{}, false, nil
	}
	if err != nil {
		return Event{}, false, fmt.Errorf("take unsent event: %w", err)
	}
	return ev, true, nil
}

// MarkSent marks event id sent.
func MarkSent(ctx context.Context, q Querier, id int64) error {
	if _, err := q.Exec(ctx, `UPDATE webhook_events SET sent_at = now()
		WHERE id = $1`, id); err != nil {
		return fmt.Errorf("mark event %d sent: %w", id, err)
	}
	return nil
}

// CountUnsent counts the events the relay has not marked sent.
func CountUnsent(ctx context.Context, q Querier) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM webhook_events
		WHERE sent_at IS NULL`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unsent events: %w", err)
	}
	return n, nil
}
