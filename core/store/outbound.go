package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Outbound is a message the business sent, as provider statuses see it.
type Outbound struct {
	ID        int64
	InboxID   int64
	SourceID  string
	Status    string
	UpdatedAt time.Time
}

// CreateOutbound records a message the inbox sent under the provider id
// sourceID, with status "sent".
func CreateOutbound(ctx context.Context, q Querier, inboxID int64,
	sourceID string) (Outbound, error) {
	o := Outbound{InboxID: inboxID, SourceID: sourceID}
	err := q.QueryRow(ctx, `INSERT INTO outbound_messages (inbox_id, source_id)
		VALUES ($1, $2) RETURNING id, status, updated_at`, inboxID, sourceID).
		Scan(&o.ID, &o.Status, &o.UpdatedAt)
	if err != nil {
		return Outbound{}, fmt.Errorf("create outbound message %s: %w", sourceID, err)
	}
	return o, nil
}

// ApplyStatus sets the status of the inbox's outbound message sourceID
// and stamps it with the database's time. It reports false, and changes
// nothing, when the inbox sent no such message. Text that Postgres cannot
// hold (a NUL byte) names no stored message and is reported as not found.
func ApplyStatus(ctx context.Context, q Querier, inboxID int64, sourceID,
	status string) (bool, error) {
	if strings.ContainsRune(sourceID, 0) || strings.ContainsRune(status, 0) {
		return false, nil
	}
	tag, err := q.Exec(ctx, `UPDATE outbound_messages
		SET status = $3, updated_at = now()
		WHERE inbox_id = $1 AND source_id = $2`, inboxID, sourceID, status)
	if err != nil {
		return false, fmt.Errorf("apply status %s to %s: %w", status, sourceID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// FindOutbound returns the outbound message sourceID, false when there is
// none.
func FindOutbound(ctx context.Context, q Querier, sourceID string) (Outbound, bool, error) {
	var o Outbound
	err := q.QueryRow(ctx, `SELECT id, inbox_id, source_id, status, updated_at
		FROM outbound_messages WHERE source_id = $1`, sourceID).
		Scan(&o.ID, &o.InboxID, &o.SourceID, &o.Status, &o.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Outbound{}, false, nil
	}
	if err != nil {
		return Outbound{}, false, fmt.Errorf("find outbound message %s: %w", sourceID, err)
	}
	return o, true, nil
}
