// Package dispatch delivers outgoing message_created webhooks to
// subscribers, signed by the Standard Webhooks convention.
package dispatch

import "time"

// EventMessageCreated is the event type of a webhook for a new message.
const EventMessageCreated = "message_created"

// Event is one stored message as its subscribers see it.
type Event struct {
	// Type is the event type, EventMessageCreated.
	Type string `json:"event"`
	// ID is the stored message's row id.
	ID int64 `json:"id"`
	// SourceID is the provider message id.
	SourceID string `json:"source_id"`
	// Part numbers the row among the rows of one provider message.
	Part        int       `json:"part"`
	Content     string    `json:"content"`
	ContentType string    `json:"content_type"`
	MessageType string    `json:"message_type"`
	CreatedAt   time.Time `json:"created_at"`
	Account     Account   `json:"account"`
	Inbox       Inbox     `json:"inbox"`
	Sender      Sender    `json:"sender"`
	// Conversation is the conversation the message was stored in.
	Conversation Conversation `json:"conversation"`
}

// Account owns the inbox.
type Account struct {
	ID int64 `json:"id"`
}

// Inbox is the business number the message arrived on.
type Inbox struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	PhoneNumberID string `json:"phone_number_id"`
}

// Sender is the contact who sent the message.
type Sender struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	WaID string `json:"wa_id"`
}

// Conversation is the open conversation of a contact in an inbox.
type Conversation struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	InboxID int64  `json:"inbox_id"`
}
