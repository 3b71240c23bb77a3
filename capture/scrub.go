package capture

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dedupsim/dedupsim/core/ingest"
)

// ErrNoSecret is returned by Scrub without a secret to sign with.
var ErrNoSecret = errors.New("no secret to sign the scrubbed bodies")

// ScrubOptions configure Scrub.
type ScrubOptions struct {
	// Key keys the pseudonyms: the same key gives the same pseudonym for
	// the same value, in one file or across files. Required.
	Key []byte
	// Secret signs the scrubbed bodies. Required.
	Secret string
	// AppSecret, when set, checks the recorded signatures: a delivery
	// whose recorded signature does not verify under it is signed so that
	// it does not verify under Secret either, and keeps its 401 on replay.
	AppSecret string
}

// keptHeaders are the recorded headers a scrubbed delivery keeps, besides
// its new signature.
var keptHeaders = []string{"Content-Type", "User-Agent"}

// Scrub returns ds with personal details replaced (see Scrubber) and every
// signature recomputed with opts.Secret. Timing is kept; of the headers,
// only Content-Type and User-Agent.
func Scrub(ds []Delivery, opts ScrubOptions) ([]Delivery, error) {
	if opts.Secret == "" {
		return nil, fmt.Errorf("scrub capture: %w", ErrNoSecret)
	}
	if len(opts.Key) == 0 {
		return nil, fmt.Errorf("scrub capture: no pseudonym key")
	}
	s := NewScrubber(opts.Key)
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		out[i] = Delivery{Line: d.Line, At: d.At, Body: s.Body(d.Body),
			Header: scrubHeaders(d.Header)}
		out[i].SetSignature(signature(d, out[i].Body, opts.Secret, opts.AppSecret))
	}
	return out, nil
}

func scrubHeaders(h map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		for _, keep := range keptHeaders {
			if http.CanonicalHeaderKey(k) == keep {
				out[k] = v
			}
		}
	}
	return out
}

// Scrubber replaces personal details in webhook bodies with pseudonyms:
// an HMAC of the value under its key, so that one value always becomes
// the same pseudonym and copies of a delivery stay identical.
//
// Phone numbers (wa_id, from, display_phone_number, recipient_id, phone)
// and ids (id, phone_number_id, message_id, sha256) keep their shape:
// each digit becomes a digit, each letter a letter of the same case, and
// a "wamid." prefix stays. Names (name, formatted_name, first_name,
// last_name, middle_name, prefix, suffix) become "Contact <hex>"; free text
// (body, caption, filename, text, address, street, city, zip, email, url)
// becomes "scrubbed <hex>"; latitude and longitude become 0. Other fields
// are kept as they are.
type Scrubber struct {
	key []byte
}

// NewScrubber returns a scrubber whose pseudonyms are keyed by key.
func NewScrubber(key []byte) *Scrubber {
	return &Scrubber{key: bytes.Clone(key)}
}

// Body returns body scrubbed. A JSON body is rewritten field by field,
// in its order, compact and with non-ASCII escaped as the provider does;
// a body over the ingest limit is padded back to its length, so that it
// is refused as the original was. Anything else keeps only its length:
// its bytes become 'x', which is not JSON either.
func (s *Scrubber) Body(body []byte) []byte {
	if !json.Valid(body) {
		return bytes.Repeat([]byte("x"), len(body))
	}
	out, err := s.rewrite(body)
	if err != nil {
		// json.Valid accepted it, so the token reader cannot fail.
		return bytes.Repeat([]byte("x"), len(body))
	}
	if len(body) > ingest.MaxBody && len(out) < len(body) {
		out = append(out, bytes.Repeat([]byte(" "), len(body)-len(out))...)
	}
	return out
}

// kind says how a field's value is scrubbed.
type kind int

const (
	keep kind = iota
	shaped
	name
	text
	coordinate
)

// kinds maps field names to how their values are scrubbed.
var kinds = map[string]kind{
	"wa_id": shaped, "from": shaped, "display_phone_number": shaped,
	"recipient_id": shaped, "phone": shaped, "id": shaped,
	"phone_number_id": shaped, "message_id": shaped, "sha256": shaped,
	"name": name, "formatted_name": name, "first_name": name, "last_name": name,
	"middle_name": name, "prefix": name, "suffix": name,
	"body": text, "caption": text, "filename": text, "text": text,
	"address": text, "street": text, "city": text, "zip": text, "email": text,
	"url":      text,
	"latitude": coordinate, "longitude": coordinate,
}

// value scrubs a string found under field.
func (s *Scrubber) value(field, v string) string {
	if v == "" {
		return v
	}
	switch kinds[field] {
	case shaped:
		return s.shape(v)
	case name:
		return "Contact " + hex.EncodeToString(s.stream(v, 0, 3))
	case text:
		return "scrubbed " + hex.EncodeToString(s.stream(v, 0, 4))
	}
	return v
}

// shape replaces every digit and letter of v, keeping a "wamid." prefix
// and every other character; it never returns v itself unless v has no
// digit or letter.
func (s *Scrubber) shape(v string) string {
	prefix := ""
	if rest, ok := strings.CutPrefix(v, "wamid."); ok {
		prefix, v = "wamid.", rest
	}
	for round := uint32(0); ; round++ {
		out := s.reshape(v, round)
		if out != v || round == 3 {
			return prefix + out
		}
	}
}

func (s *Scrubber) reshape(v string, round uint32) string {
	r := []byte(v)
	stream := s.stream(v, round, len(r))
	for i, c := range r {
		switch {
		case c >= '0' && c <= '9':
			r[i] = '0' + stream[i]%10
		case c >= 'a' && c <= 'z':
			r[i] = 'a' + stream[i]%26
		case c >= 'A' && c <= 'Z':
			r[i] = 'A' + stream[i]%26
		}
	}
	return string(r)
}

// stream returns n bytes derived from v under the key.
func (s *Scrubber) stream(v string, round uint32, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	for block := uint32(0); len(out) < n; block++ {
		mac := hmac.New(sha256.New, s.key)
		var ctr [8]byte
		binary.BigEndian.PutUint32(ctr[:4], round)
		binary.BigEndian.PutUint32(ctr[4:], block)
		mac.Write(ctr[:])
		mac.Write([]byte(v))
		out = mac.Sum(out)
	}
	return out[:n]
}
