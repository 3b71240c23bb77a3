package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Envelope is a synthetic webhook body: the entries it carries, in order.
// Marshal turns it into bytes that Parse reads back.
type Envelope struct {
	// Entries are the business accounts the body reports on.
	Entries []Entry
}

// Entry is one business account's share of an Envelope.
type Entry struct {
	// BusinessAccountID becomes the entry id.
	BusinessAccountID string
	// Changes are the batches reported for the account.
	Changes []Change
}

// Change is one batch of messages and statuses for one business number.
type Change struct {
	// PhoneNumberID is the number the batch is routed to.
	PhoneNumberID string
	// DisplayPhoneNumber is the number as users see it.
	DisplayPhoneNumber string
	// Messages are the inbound text messages of the batch.
	Messages []TextMessage
	// Statuses are updates about messages the business sent.
	Statuses []StatusUpdate
}

// TextMessage is an inbound text message to put in a synthetic body.
type TextMessage struct {
	// ID is the provider message id; Parse rejects an empty one.
	ID string
	// From is the sender's WhatsApp id.
	From string
	// Name is the sender's profile name; empty lists no contact card.
	Name string
	// Text is the message body.
	Text string
	// Timestamp is written as Unix seconds.
	Timestamp time.Time
}

// StatusUpdate is a status about a message the business sent.
type StatusUpdate struct {
	// MessageID names the outbound message.
	MessageID string
	// RecipientID is the WhatsApp id the message went to.
	RecipientID string
	// Status is sent, delivered, read or failed.
	Status string
	// Timestamp is written as Unix seconds.
	Timestamp time.Time
}

// BuildText returns a body with one entry and one change that carries
// msgs, in order.
func BuildText(phoneNumberID, displayPhone, businessID string,
	msgs ...TextMessage) []byte {
	change := Change{
		PhoneNumberID:      phoneNumberID,
		DisplayPhoneNumber: displayPhone,
		Messages:           msgs,
	}
	entry := Entry{BusinessAccountID: businessID, Changes: []Change{change}}
	return Envelope{Entries: []Entry{entry}}.Marshal()
}

// Marshal encodes e as the provider does: compact JSON with every
// non-ASCII character escaped as \uXXXX. A sender's Name is listed once
// per change, from the first of its messages that has one.
func (e Envelope) Marshal() []byte {
	env := wireEnvelope{Object: businessAccountObject}
	for _, entry := range e.Entries {
		we := wireEntry{ID: entry.BusinessAccountID}
		for _, c := range entry.Changes {
			wc := wireChange{Field: "messages", Value: c.wire()}
			we.Changes = append(we.Changes, wc)
		}
		env.Entry = append(env.Entry, we)
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		// The wire types hold only strings, numbers and slices of them.
		panic(fmt.Sprintf("meta: encode envelope: %v", err))
	}
	return escapeNonASCII(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func (c Change) wire() wireValue {
	v := wireValue{
		MessagingProduct: "whatsapp",
		Metadata: wireMetadata{
			DisplayPhoneNumber: c.DisplayPhoneNumber,
			PhoneNumberID:      c.PhoneNumberID,
		},
	}

	listed := make(map[string]bool)
	for _, m := range c.Messages {
		if m.Name != "" && !listed[m.From] {
			listed[m.From] = true
			v.Contacts = append(v.Contacts, wireContact{
				Profile: wireProfile{Name: m.Name},
				WaID:    m.From,
			})
		}
		v.Messages = append(v.Messages, wireMessage{
			From:      m.From,
			ID:        m.ID,
			Timestamp: unixString(m.Timestamp),
			Type:      "text",
			Text:      &wireText{Body: m.Text},
		})
	}

	for _, s := range c.Statuses {
		v.Statuses = append(v.Statuses, wireStatus{
			ID:          s.MessageID,
			Status:      s.Status,
			Timestamp:   unixString(s.Timestamp),
			RecipientID: s.RecipientID,
		})
	}
	return v
}

func unixString(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10)
}

// escapeNonASCII rewrites every non-ASCII character of a JSON text as a
// \uXXXX escape, with a surrogate pair above U+FFFF. Such characters can
// only stand inside strings, so the meaning of the JSON is unchanged.
func escapeNonASCII(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
			continue
		}
		if hi, lo := utf16.EncodeRune(r); hi != utf8.RuneError {
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
			continue
		}
		out = fmt.Appendf(out, `\u%04x`, r)
	}
	return out
}
