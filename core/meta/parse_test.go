package meta

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Message ids of the test data, named after the file they come from.
const (
	id01   = "wamid.HBgLMTU1NTAwMDAwMDIVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwMQA="
	id02a  = "wamid.HBgLMTU1NTAwMDAwMDIVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwMgA="
	id02b  = "wamid.HBgLMTU1NTAwMDAwMDMVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwMwA="
	id02c  = "wamid.HBgLMTU1NTAwMDAwMDIVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwNAA="
	id03a  = "wamid.HBgLMTU1NTAwMDAwMDQVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwNQA="
	id03b  = "wamid.HBgLMTU1NTAwMDAwMDIVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwNgA="
	id05   = "wamid.HBgLMTU1NTAwMDAwMDMVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwNwA="
	id06   = "wamid.HBgLMTU1NTAwMDAwMDIVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwOAA="
	id08   = "wamid.HBgLMTU1NTAwMDAwMDQVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwQQA="
	id09   = "wamid.SYNTHETICcontactsTWOcardsAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	idM1   = "wamid.HBgLMTU1NTAwMDAwMDIVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwQgA="
	idM2   = "wamid.HBgLMTU1NTAwMDAwMDMVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwQwA="
	sentB1 = "wamid.HBgLMTU1NTAwMDAwMDIVAgARGBI1RTU3MDAwMDAwMDAwMDAwQjEA"
	sentB2 = "wamid.HBgLMTU1NTAwMDAwMDMVAgARGBI1RTU3MDAwMDAwMDAwMDAwQjIA"
)

// readTestdata returns the raw bytes of a file under testdata.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(tb, err)
	return body
}

// parseTestdata parses a file under testdata that must be accepted.
func parseTestdata(tb testing.TB, name string) *Delivery {
	tb.Helper()
	d, err := Parse(readTestdata(tb, name))
	require.NoError(tb, err)
	return d
}

func TestParseFindsEveryMessageOfEveryFile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file     string
		ids      []string
		parts    []int
		statuses int
	}{
		{"01-single-text.json", []string{id01}, []int{1}, 0},
		{"02-three-messages-one-change.json",
			[]string{id02a, id02b, id02c}, []int{1, 1, 1}, 0},
		{"03-two-entries.json", []string{id03a, id03b}, []int{1, 1}, 0},
		{"04-status-only.json", nil, nil, 2},
		{"05-image-with-caption.json", []string{id05}, []int{1}, 0},
		{"06-reaction.json", []string{id06}, []int{1}, 0},
		{"08-unsupported-type.json", []string{id08}, []int{1}, 0},
		{"09-contacts-two-cards.json", []string{id09}, []int{2}, 0},
		{"burst-line1-body.json", []string{idM1}, []int{1}, 0},
		{"burst-line2-body.json", []string{idM2}, []int{1}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			d := parseTestdata(t, tc.file)

			var ids []string
			var parts []int
			for _, m := range d.Messages {
				ids = append(ids, m.ID)
				parts = append(parts, len(m.Parts))
			}
			require.Equal(t, tc.ids, ids)
			require.Equal(t, tc.parts, parts)
			require.Len(t, d.Statuses, tc.statuses)
			require.Equal(t, "whatsapp_business_account", d.Object)
		})
	}
}

func TestParseSingleTextFillsEveryField(t *testing.T) {
	t.Parallel()
	d := parseTestdata(t, "01-single-text.json")

	require.Equal(t, []Message{{
		ID:                 id01,
		BusinessAccountID:  "100000000000001",
		PhoneNumberID:      "200000000000001",
		DisplayPhoneNumber: "15550000001",
		From:               "15550000002",
		ContactName:        "Test User Alpha",
		Timestamp:          time.Unix(1767225610, 0).UTC(),
		Type:               "text",
		Parts: []Part{{
			Content:     "Hi, is my order 4711 shipped yet?",
			ContentType: "text",
		}},
	}}, d.Messages)
	require.Empty(t, d.Statuses)
	require.Empty(t, d.Errors)
}

func TestParseMatchesEachSenderToItsContactName(t *testing.T) {
	t.Parallel()
	d := parseTestdata(t, "02-three-messages-one-change.json")

	require.Len(t, d.Messages, 3)
	names := []string{}
	for _, m := range d.Messages {
		names = append(names, m.ContactName)
	}
	require.Equal(t,
		[]string{"Test User Alpha", "Test User Beta", "Test User Alpha"},
		names)
	require.Equal(t, "Olá, qual o preço do café?",
		d.Messages[1].Parts[0].Content)

	reply := d.Messages[2]
	require.Equal(t, "interactive", reply.Type)
	require.Equal(t, sentB1, reply.ReplyTo)
	require.Equal(t,
		[]Part{{Content: "Track order", ContentType: "interactive"}},
		reply.Parts)
}

func TestParseKeepsEachEntrysBusiness(t *testing.T) {
	t.Parallel()
	d := parseTestdata(t, "03-two-entries.json")

	require.Len(t, d.Messages, 2)
	first, second := d.Messages[0], d.Messages[1]
	require.Equal(t, "100000000000001", first.BusinessAccountID)
	require.Equal(t, "200000000000001", first.PhoneNumberID)
	require.Equal(t, "Test User Gamma", first.ContactName)
	require.Equal(t, "100000000000002", second.BusinessAccountID)
	require.Equal(t, "200000000000002", second.PhoneNumberID)
	require.Equal(t, "15550000010", second.DisplayPhoneNumber)
	require.Equal(t, "Test User Alpha", second.ContactName)
}

func TestParseTurnsStatusesIntoNoMessage(t *testing.T) {
	t.Parallel()
	d := parseTestdata(t, "04-status-only.json")

	require.Empty(t, d.Messages)
	require.Equal(t, []Status{
		{
			MessageID:     sentB1,
			PhoneNumberID: "200000000000001",
			Status:        "sent",
			Timestamp:     time.Unix(1767225640, 0).UTC(),
			RecipientID:   "15550000002",
		},
		{
			MessageID:     sentB2,
			PhoneNumberID: "200000000000001",
			Status:        "failed",
			Timestamp:     time.Unix(1767225641, 0).UTC(),
			RecipientID:   "15550000003",
			Errors: []Error{{
				Code:    131026,
				Title:   "Message undeliverable",
				Message: "Message undeliverable",
			}},
		},
	}, d.Statuses)
}

func TestParseReadsImageCaptionAndMedia(t *testing.T) {
	t.Parallel()
	m := parseTestdata(t, "05-image-with-caption.json").Messages[0]

	require.Equal(t, []Part{{
		Content:     "Photo of the damaged box",
		ContentType: "image",
	}}, m.Parts)
	require.Equal(t, &Media{
		ID:       "900000000000001",
		MimeType: "image/jpeg",
		SHA256:   "O95G0Xm18rkpgZYk+q9JootfDOMTzjlVbVTqWg/mgoM=",
		Caption:  "Photo of the damaged box",
	}, m.Media)
}

func TestParseReadsReactionEmojiAndTarget(t *testing.T) {
	t.Parallel()
	m := parseTestdata(t, "06-reaction.json").Messages[0]

	require.Equal(t, []Part{{Content: "👍", ContentType: "reaction"}}, m.Parts)
	require.Equal(t, sentB1, m.ReplyTo)
}

func TestParseKeepsUnsupportedMessageWithItsErrors(t *testing.T) {
	t.Parallel()
	m := parseTestdata(t, "08-unsupported-type.json").Messages[0]

	require.Equal(t, "unsupported", m.Type)
	require.Equal(t, []Part{{ContentType: "unsupported"}}, m.Parts)
	require.Equal(t, []Error{{
		Code:    131051,
		Title:   "Message type unknown",
		Message: "Message type unknown",
	}}, m.Errors)
}

func TestParseStoresOnePartPerContactCard(t *testing.T) {
	t.Parallel()
	d := parseTestdata(t, "09-contacts-two-cards.json")

	require.Len(t, d.Messages, 1)
	require.Equal(t, id09, d.Messages[0].ID)
	require.Equal(t, []Part{
		{Index: 0, Content: "Card One", ContentType: "contact"},
		{Index: 1, Content: "Card Two", ContentType: "contact"},
	}, d.Messages[0].Parts)
}

func TestParseRejectsTruncatedBodyWithItsOffset(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "07-malformed-truncated.json")

	d, err := Parse(body)
	require.Nil(t, d)
	require.ErrorIs(t, err, ErrMalformed)

	var syntax *json.SyntaxError
	require.ErrorAs(t, err, &syntax)
	require.Equal(t, int64(len(body)), syntax.Offset)
	require.Contains(t, err.Error(), "at byte 607")
}

func TestParseRejectsBodiesOfOtherObjects(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"object":"page","entry":[]}`,
		`{"entry":[]}`,
		`{"object":7}`,
		`[]`,
		`null`,
	} {
		d, err := Parse([]byte(body))
		require.Nil(t, d, body)
		require.ErrorIs(t, err, ErrUnexpectedObject, body)
	}
}

func TestParseNamesTheMessageWithoutID(t *testing.T) {
	t.Parallel()
	body := `{"object":"whatsapp_business_account","entry":[
		{"id":"1","changes":[{"value":{"messages":[{"id":"a"}]}}]},
		{"id":"2","changes":[{"value":{}},{"value":{"messages":[
			{"id":"b","type":"text"},{"type":"text"}]}}]}]}`

	_, err := Parse([]byte(body))
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "entry 1 change 1: read message 1")
}

func TestParseRejectsFieldsOfTheWrongType(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		`{"id":42,"type":"text"}`,
		`{"id":"a","timestamp":1767225610}`,
		`{"id":"a","timestamp":"yesterday"}`,
		`{"id":"a","type":"text","text":"hello"}`,
	} {
		_, err := Parse(wrapMessage(t, msg))
		require.ErrorIs(t, err, ErrInvalid, msg)
	}
}

func TestParseIgnoresFieldsItDoesNotKnow(t *testing.T) {
	t.Parallel()
	body := `{"object":"whatsapp_business_account","added":{"x":[1]},
		"entry":[{"id":"1","time":1,"changes":[{"field":"messages",
		"value":{"new":true,"messages":[{"id":"a","type":"text",
		"text":{"body":"hi","preview_url":false},"extra":"x"}]}}]}]}`

	d, err := Parse([]byte(body))
	require.NoError(t, err)
	require.Equal(t, "hi", d.Messages[0].Parts[0].Content)
}

func TestParseGivesEveryTypeAPart(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		message string
		want    []Part
	}{
		{"location with name and address",
			`{"type":"location","location":{"latitude":38.7223,
			"longitude":-9.1393,"name":"Shop","address":"Main St 1"}}`,
			[]Part{{Content: "Shop, Main St 1 (38.7223, -9.1393)",
				ContentType: "location"}}},
		{"location with coordinates only",
			`{"type":"location","location":{"latitude":1.5,"longitude":2}}`,
			[]Part{{Content: "1.5, 2", ContentType: "location"}}},
		{"list reply",
			`{"type":"interactive","interactive":{"type":"list_reply",
			"list_reply":{"id":"r1","title":"Size M","description":"d"}}}`,
			[]Part{{Content: "Size M", ContentType: "interactive"}}},
		{"quick-reply button",
			`{"type":"button","button":{"text":"Yes","payload":"YES"}}`,
			[]Part{{Content: "Yes", ContentType: "button"}}},
		{"order without a note",
			`{"type":"order","order":{"catalog_id":"c","product_items":[
			{"product_retailer_id":"p","quantity":2,"item_price":9.5},
			{"product_retailer_id":"q","quantity":"1"}]}}`,
			[]Part{{Content: "Order of 2 products", ContentType: "order"}}},
		{"system notice",
			`{"type":"system","system":{"body":"User changed number",
			"type":"user_changed_number"}}`,
			[]Part{{Content: "User changed number", ContentType: "system"}}},
		{"document without caption",
			`{"type":"document","document":{"id":"m","filename":"a.pdf"}}`,
			[]Part{{Content: "a.pdf", ContentType: "document"}}},
		{"audio without its payload",
			`{"type":"audio"}`,
			[]Part{{ContentType: "audio"}}},
		{"contacts without cards",
			`{"type":"contacts","contacts":[]}`,
			[]Part{{ContentType: "contact"}}},
		{"type this package does not know",
			`{"type":"poll","poll":{"q":"?"}}`,
			[]Part{{ContentType: "unsupported"}}},
		{"text without a body",
			`{"type":"text"}`,
			[]Part{{ContentType: "text"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg := `{"id":"x",` + strings.TrimPrefix(tc.message, "{")
			d, err := Parse(wrapMessage(t, msg))
			require.NoError(t, err)
			require.Equal(t, tc.want, d.Messages[0].Parts)
		})
	}
}

// wrapMessage returns a body whose only message is the JSON object msg.
func wrapMessage(tb testing.TB, msg string) []byte {
	tb.Helper()
	require.True(tb, json.Valid([]byte(msg)), msg)
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1",` +
		`"changes":[{"field":"messages","value":{"metadata":` +
		`{"phone_number_id":"2"},"messages":[` + msg + `]}}]}]}`)
}

// BenchmarkParseLargestBody parses a body just under the provider's
// 3 MB limit.
func BenchmarkParseLargestBody(b *testing.B) {
	const limit = 3 << 20
	msg := func(i int) TextMessage {
		return TextMessage{
			ID:   fmt.Sprintf("wamid.BENCH%08d", i),
			From: "15550000002", Name: "Bench", Text: strings.Repeat("çx", 40),
		}
	}
	one := len(BuildText("2", "1", "1", msg(0), msg(1))) -
		len(BuildText("2", "1", "1", msg(0)))
	var msgs []TextMessage
	for i := range limit/one - 1 {
		msgs = append(msgs, msg(i))
	}
	body := BuildText("200000000000001", "15550000001", "1", msgs...)
	require.LessOrEqual(b, len(body), limit)
	b.SetBytes(int64(len(body)))

	for b.Loop() {
		d, err := Parse(body)
		require.NoError(b, err)
		require.Len(b, d.Messages, len(msgs))
	}
}
