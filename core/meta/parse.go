package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// Parse errors. Every error Parse returns wraps exactly one of them.
var (
	// ErrMalformed means the body is not well-formed JSON. The error also
	// wraps the decoder's *json.SyntaxError, whose Offset is the byte where
	// reading stopped.
	ErrMalformed = errors.New("malformed body")
	// ErrUnexpectedObject means the body is JSON but not a WhatsApp
	// Business Account notification: its object is missing or different.
	ErrUnexpectedObject = errors.New("unexpected object")
	// ErrInvalid means the envelope is right but its content breaks the
	// format: a field of the wrong JSON type, a message without id, a
	// timestamp that is not Unix seconds.
	ErrInvalid = errors.New("invalid body")
)

// errMissingID rejects a message that cannot be deduplicated.
var errMissingID = fmt.Errorf("%w: message has no id", ErrInvalid)

// Parse reads one webhook body: every message and status of every change
// of every entry, in the order the body lists them. Fields the package
// does not know are ignored; ids are kept as they are, never checked
// against a length or a prefix. Parse does not authenticate the body:
// Verify its signature first.
func Parse(body []byte) (*Delivery, error) {
	if err := checkObject(body); err != nil {
		return nil, err
	}

	var env wireEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, decodeError(err)
	}

	d := &Delivery{Object: env.Object}
	for i, entry := range env.Entry {
		for j, change := range entry.Changes {
			err := d.addChange(entry.ID, change.Value)
			if err != nil {
				return nil, fmt.Errorf("read entry %d change %d: %w", i, j, err)
			}
		}
	}
	return d, nil
}

// checkObject makes sure the body is JSON and names the expected object
// before the full decode, so that a body from another product is reported
// as such rather than as a type error deep inside it.
func checkObject(body []byte) error {
	var head struct {
		Object string `json:"object"`
	}
	err := json.Unmarshal(body, &head)

	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("parse body at byte %d: %w: %w",
			syntax.Offset, ErrMalformed, err)
	case err != nil:
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return fmt.Errorf("read object: %w: the body is a JSON %s, not an object",
				ErrUnexpectedObject, typ.Value)
		}
		return fmt.Errorf("read object: %w: %w", ErrUnexpectedObject, err)
	case head.Object != businessAccountObject:
		return fmt.Errorf("read object %q: %w", head.Object, ErrUnexpectedObject)
	}
	return nil
}

// decodeError wraps a failed full decode of a body already known to be
// well-formed JSON.
func decodeError(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("decode %s at byte %d: %w: want %s, not a JSON %s",
			typ.Field, typ.Offset, ErrInvalid, jsonKind(typ.Type), typ.Value)
	}
	return fmt.Errorf("decode body: %w: %w", ErrInvalid, err)
}

// jsonKind names what JSON value decodes into t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64,
		reflect.Float64, reflect.Float32:
		return "a number"
	}
	return "another type"
}

// addChange appends the messages, statuses and errors of one change.
func (d *Delivery) addChange(accountID string, v wireValue) error {
	names := contactNames(v.Contacts)
	for k, wm := range v.Messages {
		m, err := readMessage(wm)
		if err != nil {
			return fmt.Errorf("read message %d: %w", k, err)
		}
		m.BusinessAccountID = accountID
		m.PhoneNumberID = v.Metadata.PhoneNumberID
		m.DisplayPhoneNumber = v.Metadata.DisplayPhoneNumber
		m.ContactName = names[m.From]
		d.Messages = append(d.Messages, m)
	}

	for k, ws := range v.Statuses {
		s, err := readStatus(ws)
		if err != nil {
			return fmt.Errorf("read status %d: %w", k, err)
		}
		s.PhoneNumberID = v.Metadata.PhoneNumberID
		d.Statuses = append(d.Statuses, s)
	}

	d.Errors = append(d.Errors, readErrors(v.Errors)...)
	return nil
}

// contactNames maps each sender's WhatsApp id to its profile name; the
// first card listed for an id wins.
func contactNames(contacts []wireContact) map[string]string {
	names := make(map[string]string, len(contacts))
	for _, c := range contacts {
		if _, seen := names[c.WaID]; !seen {
			names[c.WaID] = c.Profile.Name
		}
	}
	return names
}

func readMessage(wm wireMessage) (Message, error) {
	if wm.ID == "" {
		return Message{}, errMissingID
	}
	ts, err := parseUnix(wm.Timestamp)
	if err != nil {
		return Message{}, err
	}

	m := Message{
		ID:        wm.ID,
		From:      wm.From,
		Timestamp: ts,
		Type:      wm.Type,
		Errors:    readErrors(wm.Errors),
	}
	if wm.Context != nil {
		m.ReplyTo = wm.Context.ID
	}
	fillParts(&m, wm)
	return m, nil
}

func readStatus(ws wireStatus) (Status, error) {
	ts, err := parseUnix(ws.Timestamp)
	if err != nil {
		return Status{}, err
	}
	return Status{
		MessageID:   ws.ID,
		Status:      ws.Status,
		Timestamp:   ts,
		RecipientID: ws.RecipientID,
		Errors:      readErrors(ws.Errors),
	}, nil
}

func readErrors(wes []wireError) []Error {
	if len(wes) == 0 {
		return nil
	}
	errs := make([]Error, len(wes))
	for i, we := range wes {
		errs[i] = Error{Code: we.Code, Title: we.Title, Message: we.Message}
	}
	return errs
}

// parseUnix reads a timestamp written as a string of Unix seconds. An
// absent timestamp is the zero time. A time outside the years 0 to 9999
// is invalid: no provider sends one, and it cannot be written as RFC 3339
// in a job payload.
func parseUnix(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("read timestamp %q: %w", s, ErrInvalid)
	}
	if sec < minUnix || sec > maxUnix {
		return time.Time{}, fmt.Errorf("read timestamp %q: outside the years 0 "+
			"to 9999: %w", s, ErrInvalid)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// The first and last second of the years 0 to 9999, in Unix seconds.
const (
	minUnix = -62167219200
	maxUnix = 253402300799
)
