package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/store"
)

// store upserts the contact outside any transaction, then stores every
// part of the message in one transaction and commits it.
func (w *Worker) store(ctx context.Context, tr checkpoint.Tracer, call *claim.Call, job Job) (Result, error) {
	msg := job.Message
	contact, err := step(ctx, tr, checkpoint.ContactUpsert, "contacts wa_id="+msg.From,
		func() (store.Contact, error) {
			return store.UpsertContact(ctx, w.DB, job.Inbox, msg.From, msg.ContactName)
		}, func(c store.Contact) string { return fmt.Sprintf("contact %d", c.ID) })
	if err != nil {
		return Result{}, err
	}

	for try := 1; ; try++ {
		res, err := w.transact(ctx, tr, call, job, contact)
		serial := w.Isolation == pgx.RepeatableRead || w.Isolation == pgx.Serializable
		if !serial || !retryable(err) || try == maxTxTries {
			return res, err
		}
	}
}

// maxTxTries bounds how often a transaction that failed to serialize is
// run again.
const maxTxTries = 5

// retryable reports whether err is a serialization failure or a deadlock,
// which a REPEATABLE READ or SERIALIZABLE transaction retries.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// transact runs the job's transaction once: BEGIN, the strategy's check,
// conversation, media, insert, and COMMIT.
func (w *Worker) transact(ctx context.Context, tr checkpoint.Tracer, call *claim.Call,
	job Job, contact store.Contact) (Result, error) {
	if err := tr.Enter(ctx, checkpoint.TxBegin, "BEGIN"); err != nil {
		return Result{}, err
	}
	conn, err := w.DB.Acquire(ctx)
	if err != nil {
		tr.Done(ctx, checkpoint.TxBegin, "BEGIN", "", err)
		return Result{}, fmt.Errorf("begin: %w", err)
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: w.Isolation})
	tr.Done(ctx, checkpoint.TxBegin, "BEGIN", "BEGIN", err)
	if err != nil {
		return Result{}, fmt.Errorf("begin: %w", err)
	}
	// Rollback after a successful Commit is a no-op.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// From here on the hook knows which backend runs the transaction.
	tr.PID = conn.Conn().PgConn().PID()
	call.Tracer.PID = tr.PID

	res, err := w.inTx(ctx, tr, call, tx, job, contact)
	if err != nil || res.Outcome != Stored {
		return res, err
	}
	if err := w.Strategy.BeforeCommit(ctx, call); err != nil {
		return Result{}, err
	}
	if err := tr.Enter(ctx, checkpoint.TxCommit, "COMMIT"); err != nil {
		return Result{}, err
	}
	err = tx.Commit(ctx)
	tr.Done(ctx, checkpoint.TxCommit, "COMMIT", "COMMIT", err)
	if err != nil {
		return Result{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// inTx resolves the conversation and inserts every part.
func (w *Worker) inTx(ctx context.Context, tr checkpoint.Tracer, call *claim.Call,
	tx pgx.Tx, job Job, contact store.Contact) (Result, error) {
	ok, err := w.Strategy.InTx(ctx, call, tx)
	if err != nil || !ok {
		return Result{Outcome: Duplicate}, err
	}
	conv, err := step(ctx, tr, checkpoint.ConversationResolve,
		fmt.Sprintf("conversations contact=%d", contact.ID),
		func() (store.Conversation, error) {
			return store.ResolveConversation(ctx, tx, job.Inbox, contact.ID)
		}, func(c store.Conversation) string { return fmt.Sprintf("conversation %d", c.ID) })
	if err != nil {
		return Result{}, err
	}

	if err := w.fetchMedia(ctx, tr, job.Message); err != nil {
		return Result{}, err
	}
	rows := make([]store.Message, 0, len(job.Message.Parts))
	for _, part := range job.Message.Parts {
		m := store.Message{
			AccountID: job.Inbox.AccountID, InboxID: job.Inbox.ID,
			ConversationID: conv.ID, SenderID: contact.ID,
			SourceID: job.Message.ID, Part: part.Index, Content: part.Content,
			ContentType: part.ContentType, MessageType: "incoming",
		}
		inserted, err := w.insert(ctx, tr, tx, &m)
		if err != nil {
			return Result{}, err
		}
		if inserted {
			rows = append(rows, m)
		}
	}
	if len(rows) == 0 {
		return Result{Outcome: Duplicate}, nil
	}
	if w.Outbox {
		for _, m := range rows {
			if err := dispatch.Enqueue(ctx, tr, tx, event(job, m)); err != nil {
				return Result{}, err
			}
		}
	}
	return Result{Outcome: Stored, Rows: rows}, nil
}

// fetchMedia downloads a media message's attachment at media.fetch.
func (w *Worker) fetchMedia(ctx context.Context, tr checkpoint.Tracer, m meta.Message) error {
	if m.Media == nil || w.Media == nil {
		return nil
	}
	_, err := step(ctx, tr, checkpoint.MediaFetch, "media "+m.Media.ID,
		func() (string, error) { return w.Media.Fetch(ctx, *m.Media) },
		func(got string) string { return got })
	if err != nil {
		return fmt.Errorf("fetch media %s: %w", m.Media.ID, err)
	}
	return nil
}

// insert stores one row at checkpoint message.insert.
func (w *Worker) insert(ctx context.Context, tr checkpoint.Tracer, tx pgx.Tx, m *store.Message) (bool, error) {
	detail := fmt.Sprintf("messages source_id=%s part=%d", m.SourceID, m.Part)
	if err := tr.Enter(ctx, checkpoint.MessageInsert, detail); err != nil {
		return false, err
	}
	inserted, err := store.InsertMessage(ctx, tx, m, w.Strategy.InsertMode())
	result := "0 rows"
	if inserted {
		result = fmt.Sprintf("1 row (id %d)", m.ID)
	}
	tr.Done(ctx, checkpoint.MessageInsert, detail, result, err)
	return inserted, err
}

// step runs one step between its checkpoint's Enter and Done.
func step[T any](ctx context.Context, tr checkpoint.Tracer, n checkpoint.Name, detail string,
	do func() (T, error), describe func(T) string) (T, error) {
	var zero T
	if err := tr.Enter(ctx, n, detail); err != nil {
		return zero, err
	}
	v, err := do()
	if err != nil {
		tr.Done(ctx, n, detail, "", err)
		return zero, err
	}
	tr.Done(ctx, n, detail, describe(v), nil)
	return v, nil
}
