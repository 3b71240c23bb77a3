package dispatch

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers of every outgoing webhook.
const (
	// HeaderID carries the webhook id, stable across retries of one event:
	// the receiver's idempotency key.
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the send time in Unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries one or more space-separated signatures, each
	// "v1," followed by a base64 HMAC-SHA256.
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts the written form of an endpoint secret.
const SecretPrefix = "whsec_"

// signatureVersion labels the HMAC-SHA256 signature scheme.
const signatureVersion = "v1"

// Errors that Verify and Sign wrap.
var (
	// ErrMissingHeaders means a webhook header is absent or unreadable.
	ErrMissingHeaders = errors.New("missing or malformed webhook headers")
	// ErrBadSecret means a secret is empty or not base64.
	ErrBadSecret = errors.New("bad webhook secret")
	// ErrNoMatchingSignature means no signature in the header matches the
	// body under the secret.
	ErrNoMatchingSignature = errors.New("no matching webhook signature")
	// ErrTimestampOutOfRange means the webhook's timestamp lies further
	// from the verifier's clock than the tolerance allows.
	ErrTimestampOutOfRange = errors.New("webhook timestamp out of range")
)

// Sign returns the signature header value for one webhook: "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body" keyed by the decoded secret.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", fmt.Errorf("sign webhook %s: %w", id, err)
	}
	mac := digest(key, id, strconv.FormatInt(ts.Unix(), 10), body)
	return signatureVersion + "," + base64.StdEncoding.EncodeToString(mac), nil
}

// Verify checks a webhook's headers against its body. It accepts the
// webhook when any of the space-separated signatures matches under secret
// and its timestamp lies within tolerance of now, in either direction.
func Verify(
	secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration,
) error {
	id, tsText := h.Get(HeaderID), h.Get(HeaderTimestamp)
	sigs := h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return fmt.Errorf("verify webhook: %w", ErrMissingHeaders)
	}
	key, err := decodeSecret(secret)
	if err != nil {
		return fmt.Errorf("verify webhook %s: %w", id, err)
	}
	unix, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("verify webhook %s: parse timestamp %q: %w",
			id, tsText, ErrMissingHeaders)
	}

	if skew := now.Sub(time.Unix(unix, 0)).Abs(); skew > tolerance {
		return fmt.Errorf("verify webhook %s: timestamp %d is %s from now: %w",
			id, unix, skew, ErrTimestampOutOfRange)
	}
	if !anyMatch(sigs, digest(key, id, tsText, body)) {
		return fmt.Errorf("verify webhook %s: %w", id, ErrNoMatchingSignature)
	}
	return nil
}

// NewSecret returns a fresh endpoint secret in its written form, 32 random
// bytes read from r (crypto/rand when r is nil). A seeded r gives the same
// secret on every run. It panics if r cannot supply the bytes.
func NewSecret(r io.Reader) string {
	if r == nil {
		r = rand.Reader
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(r, key); err != nil {
		panic(fmt.Sprintf("dispatch: read secret bytes: %v", err))
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// decodeSecret returns the HMAC key of a secret written with or without
// its "whsec_" prefix.
func decodeSecret(secret string) ([]byte, error) {
	text := strings.TrimPrefix(secret, SecretPrefix)
	if text == "" {
		return nil, fmt.Errorf("decode secret: empty: %w", ErrBadSecret)
	}
	key, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("decode secret: %w: %w", ErrBadSecret, err)
	}
	return key, nil
}

// digest is the raw HMAC-SHA256 of "id.timestamp.body".
func digest(key []byte, id, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return mac.Sum(nil)
}

// anyMatch reports whether one of the space-separated "v1,<base64>"
// signatures in header equals want. Other versions are skipped.
func anyMatch(header string, want []byte) bool {
	for sig := range strings.FieldsSeq(header) {
		version, encoded, ok := strings.Cut(sig, ",")
		if !ok || version != signatureVersion {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(encoded)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}
