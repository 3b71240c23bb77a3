package flow

import (
	"context"
	"errors"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/core/store"
)

// dispatch sends one message_created webhook per committed row.
func (w *Worker) dispatch(ctx context.Context, tr checkpoint.Tracer, job Job, rows []store.Message) error {
	if w.Dispatcher == nil || w.Outbox {
		return nil
	}
	var errs []error
	for _, m := range rows {
		if err := w.Dispatcher.Dispatch(ctx, tr, event(job, m)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// event is the webhook payload of a committed row.
func event(job Job, m store.Message) dispatch.Event {
	return dispatch.Event{
		Type: dispatch.EventMessageCreated, ID: m.ID, SourceID: m.SourceID,
		Part: m.Part, Content: m.Content, ContentType: m.ContentType,
		MessageType: m.MessageType, CreatedAt: m.CreatedAt,
		Account: dispatch.Account{ID: m.AccountID},
		Inbox: dispatch.Inbox{ID: job.Inbox.ID, Name: job.Inbox.Name,
			PhoneNumberID: job.Inbox.PhoneNumberID},
		Sender: dispatch.Sender{ID: m.SenderID, Name: job.Message.ContactName,
			WaID: job.Message.From},
		Conversation: dispatch.Conversation{ID: m.ConversationID, Status: "open",
			InboxID: m.InboxID},
	}
}
