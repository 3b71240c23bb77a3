// Package meta reads WhatsApp Cloud API webhook deliveries: it parses every
// entry, change, message and status of a body, and signs and verifies the
// X-Hub-Signature-256 header over the body's raw bytes. It also builds
// synthetic bodies, encoded as the provider encodes them, for scenarios
// and tests.
package meta

import "time"

// Delivery is everything one webhook body carries, flattened in the order
// the body lists it.
type Delivery struct {
	// Object is the envelope's object, "whatsapp_business_account".
	Object string
	// Messages lists every inbound message of every entry and change.
	Messages []Message
	// Statuses lists every status update of every entry and change.
	Statuses []Status
	// Errors lists the change-level error objects.
	Errors []Error
}

// Message is one inbound message, the unit a worker processes.
type Message struct {
	// ID is the provider message id ("wamid.…"): the source id and the only
	// stable dedup key. Opaque and case-sensitive.
	ID string
	// BusinessAccountID is the entry id.
	BusinessAccountID string
	// PhoneNumberID routes the message to an inbox.
	PhoneNumberID string
	// DisplayPhoneNumber is the business number as shown to users.
	DisplayPhoneNumber string
	// From is the sender's WhatsApp id.
	From string
	// ContactName is the sender's profile name, when the change lists it.
	ContactName string
	// Timestamp is when the provider says the message was sent.
	Timestamp time.Time
	// Type is the provider's message type: text, image, contacts, …
	Type string
	// Parts are the rows the message is stored as: one for most types, one
	// per card for a contacts message.
	Parts []Part
	// Media describes the attachment of a media message, nil otherwise.
	Media *Media
	// ReplyTo is the id of the message this one answers or reacts to.
	ReplyTo string
	// Errors lists the message's own error objects (unsupported types).
	Errors []Error
}

// Part is one stored row of a message.
type Part struct {
	// Index numbers the parts of one message from 0.
	Index int
	// Content is the row's text: a body, a caption, a card's name, an emoji.
	Content string
	// ContentType is how the row is rendered: "text", "contact", "image",
	// "reaction", …
	ContentType string
}

// Media is the attachment of an image, audio, video, document or sticker.
type Media struct {
	// ID names the file for the provider's media download endpoint.
	ID string
	// MimeType is the file's type as the provider reports it.
	MimeType string
	// SHA256 is the provider's base64 digest of the file.
	SHA256 string
	// Caption is the text the sender wrote under the attachment.
	Caption string
	// Filename is the document's file name; other media have none.
	Filename string
}

// Status is an update about a message the business sent; it never creates
// an inbound message.
type Status struct {
	// MessageID names the outbound message the status is about.
	MessageID string
	// PhoneNumberID is the business number that sent the message.
	PhoneNumberID string
	// Status is sent, delivered, read or failed.
	Status string
	// Timestamp is when the provider says the status changed.
	Timestamp time.Time
	// RecipientID is the WhatsApp id the message went to.
	RecipientID string
	// Errors explains a failed status.
	Errors []Error
}

// Error is a provider error object.
type Error struct {
	// Code is the provider's numeric error code.
	Code int
	// Title is the code's short name.
	Title string
	// Message describes the error; often the same as Title.
	Message string
}
