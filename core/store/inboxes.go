package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// FindInbox returns the inbox routed by phoneNumberID, false when there is
// none. An id Postgres cannot hold (a NUL byte) routes nowhere.
func FindInbox(ctx context.Context, q Querier, phoneNumberID string) (Inbox, bool, error) {
	if strings.ContainsRune(phoneNumberID, 0) {
		return Inbox{}, false, nil
	}
	var in Inbox
	err := q.QueryRow(ctx, `SELECT id, account_id, name, phone_number_id
		FROM inboxes WHERE phone_number_id = $1`, phoneNumberID).
		Scan(&in.ID, &in.AccountID, &in.Name, &in.PhoneNumberID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Inbox{}, false, nil
	}
	if err != nil {
		return Inbox{}, false, fmt.Errorf("find inbox %s: %w", phoneNumberID, err)
	}
	return in, true, nil
}
