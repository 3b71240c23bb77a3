package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier is what the queries need: a pool, a connection or a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Inbox is a business number messages arrive on.
type Inbox struct {
	ID            int64
	AccountID     int64
	Name          string
	PhoneNumberID string
}

// Contact is a sender, unique per inbox and WhatsApp id.
type Contact struct {
	ID   int64
	WaID string
	Name string
}

// Conversation is a contact's conversation in an inbox.
type Conversation struct {
	ID     int64
	Status string
}

// Message is one stored row of a provider message.
type Message struct {
	ID             int64
	AccountID      int64
	InboxID        int64
	ConversationID int64
	SenderID       int64
	SourceID       string
	Part           int
	Content        string
	ContentType    string
	MessageType    string
	CreatedAt      time.Time
}

// CreateInbox creates an account and an inbox routed by phoneNumberID.
func CreateInbox(ctx context.Context, q Querier, name, phoneNumberID string) (Inbox, error) {
	in := Inbox{Name: name, PhoneNumberID: phoneNumberID}
	err := q.QueryRow(ctx,
		`INSERT INTO accounts (name) VALUES ($1) RETURNING id`, name).
		Scan(&in.AccountID)
	if err != nil {
		return Inbox{}, fmt.Errorf("create account %s: %w", name, err)
	}
	err = q.QueryRow(ctx, `INSERT INTO inboxes (account_id, name, phone_number_id)
		VALUES ($1, $2, $3) RETURNING id`, in.AccountID, name, phoneNumberID).
		Scan(&in.ID)
	if err != nil {
		return Inbox{}, fmt.Errorf("create inbox %s: %w", name, err)
	}
	return in, nil
}

// MessageExists reports whether the inbox holds a message with sourceID,
// as seen by q's snapshot.
func MessageExists(ctx context.Context, q Querier, inboxID int64, sourceID string) (bool, error) {
	var found bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages
		WHERE inbox_id = $1 AND source_id = $2)`, inboxID, sourceID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("look up message %s: %w", sourceID, err)
	}
	return found, nil
}

// UpsertContact finds or creates the contact waID of an inbox and brings
// its name up to date.
func UpsertContact(ctx context.Context, q Querier, in Inbox, waID, name string) (Contact, error) {
	c := Contact{WaID: waID, Name: name}
	err := q.QueryRow(ctx, `INSERT INTO contacts (account_id, inbox_id, wa_id, name)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (inbox_id, wa_id) DO UPDATE
			SET name = CASE WHEN EXCLUDED.name = '' THEN contacts.name
				ELSE EXCLUDED.name END
		RETURNING id, name`, in.AccountID, in.ID, waID, name).Scan(&c.ID, &c.Name)
	if err != nil {
		return Contact{}, fmt.Errorf("upsert contact %s: %w", waID, err)
	}
	return c, nil
}

// ResolveConversation returns the contact's open conversation in the inbox,
// creating one if there is none. It reads, then inserts: two transactions
// that run it at once can both create one, as in the original system.
func ResolveConversation(ctx context.Context, q Querier, in Inbox, contactID int64) (Conversation, error) {
	conv := Conversation{Status: "open"}
	err := q.QueryRow(ctx, `SELECT id FROM conversations
		WHERE inbox_id = $1 AND contact_id = $2 AND status = 'open'
		ORDER BY id LIMIT 1`, in.ID, contactID).Scan(&conv.ID)
	if err == nil {
		return conv, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, fmt.Errorf("find conversation: %w", err)
	}
	err = q.QueryRow(ctx, `INSERT INTO conversations (account_id, inbox_id, contact_id)
		VALUES ($1, $2, $3) RETURNING id`, in.AccountID, in.ID, contactID).Scan(&conv.ID)
	if err != nil {
		return Conversation{}, fmt.Errorf("create conversation: %w", err)
	}
	return conv, nil
}

// InsertMode says how a message row is inserted.
type InsertMode int

const (
	// InsertPlain always inserts the row.
	InsertPlain InsertMode = iota
	// InsertIfAbsent inserts with ON CONFLICT DO NOTHING, relying on a
	// unique index over (inbox_id, source_id, part).
	InsertIfAbsent
)

// InsertMessage stores m and fills in its id and creation time. It reports
// false when mode is InsertIfAbsent and the row already existed.
func InsertMessage(ctx context.Context, q Querier, m *Message, mode InsertMode) (bool, error) {
	sql := `INSERT INTO messages (account_id, inbox_id, conversation_id, sender_id,
		source_id, part, content, content_type, message_type)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	if mode == InsertIfAbsent {
		sql += ` ON CONFLICT (inbox_id, source_id, part) DO NOTHING`
	}
	sql += ` RETURNING id, created_at`
	err := q.QueryRow(ctx, sql, m.AccountID, m.InboxID, m.ConversationID, m.SenderID,
		m.SourceID, m.Part, m.Content, m.ContentType, m.MessageType).
		Scan(&m.ID, &m.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) && mode == InsertIfAbsent {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert message %s part %d: %w", m.SourceID, m.Part, err)
	}
	return true, nil
}

// PartCount is how many rows hold one part of one provider message.
type PartCount struct {
	SourceID string
	Part     int
	Rows     int
	// IDs are the rows' ids, ascending.
	IDs []int64
}

// CountParts counts the stored rows of every message part.
func CountParts(ctx context.Context, q Querier) ([]PartCount, error) {
	rows, err := q.Query(ctx, `SELECT source_id, part, count(*), array_agg(id ORDER BY id)
		FROM messages GROUP BY source_id, part ORDER BY source_id, part`)
	if err != nil {
		return nil, fmt.Errorf("count messages: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PartCount, error) {
		var pc PartCount
		err := r.Scan(&pc.SourceID, &pc.Part, &pc.Rows, &pc.IDs)
		return pc, err
	})
	if err != nil {
		return nil, fmt.Errorf("count messages: %w", err)
	}
	return out, nil
}

// ConversationCount is how many open conversations one contact has in one
// inbox.
type ConversationCount struct {
	InboxID int64
	WaID    string
	Open    int
}

// CountOpenConversations counts open conversations per contact and inbox.
func CountOpenConversations(ctx context.Context, q Querier) ([]ConversationCount, error) {
	rows, err := q.Query(ctx, `SELECT c.inbox_id, ct.wa_id, count(*)
		FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
		WHERE c.status = 'open'
		GROUP BY c.inbox_id, ct.wa_id ORDER BY c.inbox_id, ct.wa_id`)
	if err != nil {
		return nil, fmt.Errorf("count conversations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConversationCount, error) {
		var cc ConversationCount
		err := r.Scan(&cc.InboxID, &cc.WaID, &cc.Open)
		return cc, err
	})
	if err != nil {
		return nil, fmt.Errorf("count conversations: %w", err)
	}
	return out, nil
}

// AddUniqueSourceIndex makes (inbox, source id, part) unique, for the
// db-unique strategy. The contacts card case stays legal: its rows differ
// by part.
func AddUniqueSourceIndex(ctx context.Context, q Querier) error {
	_, err := q.Exec(ctx, `CREATE UNIQUE INDEX IF NOT EXISTS messages_source_part_key
		ON messages (inbox_id, source_id, part)`)
	if err != nil {
		return fmt.Errorf("add unique source index: %w", err)
	}
	return nil
}
