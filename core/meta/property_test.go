package meta

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// A failing property prints the rapid seed; rerun it with
// go test ./core/meta -run NAME -rapid.seed=SEED.

func TestBuiltSignedBodyParsesToEveryMessageOnce(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		env := envelopeGen().Draw(t, "envelope")
		secret := rapid.StringN(1, 40, -1).Draw(t, "secret")

		body := env.Marshal()
		require.NoError(t, Verify(secret, body, Sign(secret, body)))
		require.True(t, isASCII(body), "body carries raw non-ASCII")

		d, err := Parse(body)
		require.NoError(t, err)
		want, statuses := flatten(env)
		require.Len(t, d.Messages, len(want))
		require.Len(t, d.Statuses, statuses)

		seen := make(map[string]int)
		for i, m := range d.Messages {
			seen[m.ID]++
			requireSameMessage(t, want[i], m)
		}
		for _, w := range want {
			require.Equal(t, 1, seen[w.ID], "id %q", w.ID)
		}
	})
}

func TestAnyChangeToASignedBodyFailsVerification(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		body := envelopeGen().Draw(t, "envelope").Marshal()
		secret := rapid.StringN(1, 40, -1).Draw(t, "secret")
		header := Sign(secret, body)

		changed := rapid.OneOf(
			flipGen(body), appendGen(body), truncateGen(body),
		).Draw(t, "changed")
		require.ErrorIs(t, Verify(secret, changed, header),
			ErrSignatureMismatch)
	})
}

// envelopeGen draws envelopes of one to three entries of one to three
// changes, each with up to four messages and two statuses. Message ids
// are distinct across the envelope.
func envelopeGen() *rapid.Generator[Envelope] {
	return rapid.Custom(func(t *rapid.T) Envelope {
		var env Envelope
		ids := map[string]bool{}
		for range rapid.IntRange(1, 3).Draw(t, "entries") {
			entry := Entry{BusinessAccountID: digitsGen().Draw(t, "account")}
			for range rapid.IntRange(1, 3).Draw(t, "changes") {
				entry.Changes = append(entry.Changes, changeGen(t, ids))
			}
			env.Entries = append(env.Entries, entry)
		}
		return env
	})
}

func changeGen(t *rapid.T, ids map[string]bool) Change {
	c := Change{
		PhoneNumberID:      digitsGen().Draw(t, "phone_number_id"),
		DisplayPhoneNumber: digitsGen().Draw(t, "display_phone"),
	}
	for range rapid.IntRange(0, 4).Draw(t, "messages") {
		m := messageGen().Draw(t, "message")
		if ids[m.ID] {
			continue
		}
		ids[m.ID] = true
		c.Messages = append(c.Messages, m)
	}
	for range rapid.IntRange(0, 2).Draw(t, "statuses") {
		c.Statuses = append(c.Statuses, StatusUpdate{
			MessageID:   idGen().Draw(t, "status_id"),
			RecipientID: digitsGen().Draw(t, "recipient"),
			Status:      rapid.SampledFrom(statusNames).Draw(t, "status"),
			Timestamp:   timeGen().Draw(t, "status_time"),
		})
	}
	return c
}

var statusNames = []string{"sent", "delivered", "read", "failed"}

func messageGen() *rapid.Generator[TextMessage] {
	return rapid.Custom(func(t *rapid.T) TextMessage {
		return TextMessage{
			ID:        idGen().Draw(t, "id"),
			From:      rapid.SampledFrom(senders).Draw(t, "from"),
			Name:      rapid.String().Draw(t, "name"),
			Text:      rapid.String().Draw(t, "text"),
			Timestamp: timeGen().Draw(t, "time"),
		}
	})
}

// senders is small so that one change often holds several messages from
// one sender.
var senders = []string{"15550000002", "15550000003", "15550000004"}

// idGen draws provider-like ids and arbitrary non-empty Unicode ones.
func idGen() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.StringMatching(`wamid\.[A-Za-z0-9+/]{8,60}={0,2}`),
		rapid.StringN(1, 24, -1),
	)
}

func digitsGen() *rapid.Generator[string] {
	return rapid.StringMatching(`[1-9][0-9]{5,14}`)
}

func timeGen() *rapid.Generator[time.Time] {
	return rapid.Map(rapid.Int64Range(0, 1<<34), func(sec int64) time.Time {
		return time.Unix(sec, 0).UTC()
	})
}

func flipGen(body []byte) *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		i := rapid.IntRange(0, len(body)-1).Draw(t, "flip_at")
		mask := rapid.IntRange(1, 255).Draw(t, "flip_mask")
		changed := append([]byte(nil), body...)
		changed[i] ^= byte(mask)
		return changed
	})
}

func appendGen(body []byte) *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		tail := rapid.SliceOfN(rapid.Byte(), 1, 16).Draw(t, "tail")
		return append(append([]byte(nil), body...), tail...)
	})
}

func truncateGen(body []byte) *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		n := rapid.IntRange(0, len(body)-1).Draw(t, "keep")
		return body[:n]
	})
}

// flatten lists the messages of env in body order, each with the contact
// name Parse should find, and counts its statuses.
func flatten(env Envelope) (msgs []TextMessage, statuses int) {
	for _, entry := range env.Entries {
		for _, c := range entry.Changes {
			names := map[string]string{}
			for _, m := range c.Messages {
				if _, ok := names[m.From]; !ok && m.Name != "" {
					names[m.From] = m.Name
				}
			}
			for _, m := range c.Messages {
				m.Name = names[m.From]
				msgs = append(msgs, m)
			}
			statuses += len(c.Statuses)
		}
	}
	return msgs, statuses
}

// helperT is what both *testing.T and *rapid.T offer a helper.
type helperT interface {
	require.TestingT
	Helper()
}

func requireSameMessage(t helperT, want TextMessage, got Message) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.From, got.From)
	require.Equal(t, want.Name, got.ContactName)
	require.True(t, want.Timestamp.Equal(got.Timestamp))
	require.Equal(t,
		[]Part{{Content: want.Text, ContentType: "text"}}, got.Parts)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
