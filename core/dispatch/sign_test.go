package dispatch_test

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/dispatch"
)

// The known vectors were computed outside Go, with
//
//	printf '%s' "$id.$ts.$body" |
//	  openssl dgst -sha256 -mac HMAC -macopt hexkey:$hex -binary | base64
//
// where $hex is the hex form of the secret's decoded bytes.
func TestSignKnownVectors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, secret, id string
		ts               int64
		body, want       string
	}{
		{
			name:   "a dedupsim event",
			secret: "whsec_ZGVkdXBzaW0ta25vd24tdmVjdG9yLXNlY3JldC1rZXk=",
			id:     "msg_7_42",
			ts:     1767225600,
			body:   `{"event":"message_created","id":42,"content":"hello"}`,
			want:   "v1,/KHyyaTTGnugF5+Dy8g2xZLv54E0dp9VL9nqkT462cI=",
		},
		{
			name:   "the Standard Webhooks example",
			secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			id:     "msg_p5jXN8AQM9LWM0D4loKWxJek",
			ts:     1614265330,
			body:   `{"test": 2432232314}`,
			want:   "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := time.Unix(c.ts, 0)
			got, err := dispatch.Sign(c.secret, c.id, ts, []byte(c.body))
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestSignAcceptsSecretWithoutPrefix(t *testing.T) {
	t.Parallel()
	secret := dispatch.NewSecret(bytes.NewReader(make([]byte, 32)))
	ts := time.Unix(1767225600, 0)

	withPrefix, err := dispatch.Sign(secret, "msg_1_1", ts, []byte("{}"))
	require.NoError(t, err)
	bare, err := dispatch.Sign(secret[len(dispatch.SecretPrefix):], "msg_1_1", ts,
		[]byte("{}"))
	require.NoError(t, err)
	require.Equal(t, withPrefix, bare)
}

func TestSignRejectsBadSecrets(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"", "whsec_", "whsec_not*base64"} {
		_, err := dispatch.Sign(secret, "msg_1_1", time.Now(), nil)
		require.ErrorIs(t, err, dispatch.ErrBadSecret, "secret %q", secret)
	}
}

func TestNewSecretIsDeterministicForASeededReader(t *testing.T) {
	t.Parallel()
	seed := bytes.Repeat([]byte{7}, 32)
	a := dispatch.NewSecret(bytes.NewReader(seed))
	b := dispatch.NewSecret(bytes.NewReader(seed))
	require.Equal(t, a, b)
	require.NotEqual(t, a, dispatch.NewSecret(nil))
}

// signed returns the headers of a webhook signed at ts.
func signed(tb testing.TB, secret, id string, ts time.Time, body []byte) http.Header {
	tb.Helper()
	sig, err := dispatch.Sign(secret, id, ts, body)
	require.NoError(tb, err)
	h := http.Header{}
	h.Set(dispatch.HeaderID, id)
	h.Set(dispatch.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(dispatch.HeaderSignature, sig)
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	secret := dispatch.NewSecret(bytes.NewReader(bytes.Repeat([]byte{1}, 32)))
	other := dispatch.NewSecret(bytes.NewReader(bytes.Repeat([]byte{2}, 32)))
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"event":"message_created","id":1}`)
	const tolerance = 5 * time.Minute

	t.Run("a signed webhook round-trips", func(t *testing.T) {
		h := signed(t, secret, "msg_1_1", now, body)
		require.NoError(t, dispatch.Verify(secret, h, body, now, tolerance))
	})

	t.Run("one matching signature among several is enough", func(t *testing.T) {
		h := signed(t, secret, "msg_1_1", now, body)
		old := signed(t, other, "msg_1_1", now, body).Get(dispatch.HeaderSignature)
		h.Set(dispatch.HeaderSignature, "v2,bm90LWEtdjE= "+old+" "+
			h.Get(dispatch.HeaderSignature))
		require.NoError(t, dispatch.Verify(secret, h, body, now, tolerance))
	})

	t.Run("a tampered body fails", func(t *testing.T) {
		h := signed(t, secret, "msg_1_1", now, body)
		tampered := bytes.Replace(body, []byte(`"id":1`), []byte(`"id":2`), 1)
		err := dispatch.Verify(secret, h, tampered, now, tolerance)
		require.ErrorIs(t, err, dispatch.ErrNoMatchingSignature)
	})

	t.Run("the wrong secret fails", func(t *testing.T) {
		h := signed(t, other, "msg_1_1", now, body)
		err := dispatch.Verify(secret, h, body, now, tolerance)
		require.ErrorIs(t, err, dispatch.ErrNoMatchingSignature)
	})

	t.Run("a timestamp out of tolerance fails either way", func(t *testing.T) {
		past := -tolerance - time.Second
		for _, skew := range []time.Duration{past, -past} {
			h := signed(t, secret, "msg_1_1", now.Add(skew), body)
			err := dispatch.Verify(secret, h, body, now, tolerance)
			require.ErrorIs(t, err, dispatch.ErrTimestampOutOfRange, "skew %s", skew)
		}
	})

	t.Run("a timestamp at the tolerance's edge passes", func(t *testing.T) {
		h := signed(t, secret, "msg_1_1", now.Add(-tolerance), body)
		require.NoError(t, dispatch.Verify(secret, h, body, now, tolerance))
	})

	t.Run("missing or unreadable headers fail", func(t *testing.T) {
		for _, name := range []string{
			dispatch.HeaderID, dispatch.HeaderTimestamp, dispatch.HeaderSignature,
		} {
			h := signed(t, secret, "msg_1_1", now, body)
			h.Del(name)
			err := dispatch.Verify(secret, h, body, now, tolerance)
			require.ErrorIs(t, err, dispatch.ErrMissingHeaders, "without %s", name)
		}
		h := signed(t, secret, "msg_1_1", now, body)
		h.Set(dispatch.HeaderTimestamp, "noon")
		err := dispatch.Verify(secret, h, body, now, tolerance)
		require.ErrorIs(t, err, dispatch.ErrMissingHeaders)
	})

	t.Run("a bad secret fails", func(t *testing.T) {
		h := signed(t, secret, "msg_1_1", now, body)
		err := dispatch.Verify("whsec_%%%", h, body, now, tolerance)
		require.ErrorIs(t, err, dispatch.ErrBadSecret)
	})
}

func TestWebhookIDFollowsTheStoredRow(t *testing.T) {
	t.Parallel()
	first := dispatch.Event{ID: 41, SourceID: "wamid.X", Inbox: dispatch.Inbox{ID: 3}}
	duplicate := first
	duplicate.ID = 42

	require.Equal(t, "msg_3_41", dispatch.WebhookID(first))
	require.Equal(t, dispatch.WebhookID(first), dispatch.WebhookID(first))
	require.NotEqual(t, dispatch.WebhookID(first), dispatch.WebhookID(duplicate))
}
