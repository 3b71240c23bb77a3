package ingest

import (
	"context"

	"github.com/dedupsim/dedupsim/core/store"
)

// Router maps a phone number id to the inbox it routes to.
type Router interface {
	// Route returns the inbox of phoneNumberID, false when none has it.
	Route(ctx context.Context, phoneNumberID string) (store.Inbox, bool, error)
}

// Inboxes is a fixed Router: inboxes by phone number id.
type Inboxes map[string]store.Inbox

// Route implements Router.
func (in Inboxes) Route(_ context.Context,
	phoneNumberID string) (store.Inbox, bool, error) {
	inbox, ok := in[phoneNumberID]
	return inbox, ok, nil
}

// StoreRouter routes by the inboxes table, read on every message.
type StoreRouter struct {
	DB store.Querier
}

// Route implements Router.
func (s StoreRouter) Route(ctx context.Context,
	phoneNumberID string) (store.Inbox, bool, error) {
	return store.FindInbox(ctx, s.DB, phoneNumberID)
}
