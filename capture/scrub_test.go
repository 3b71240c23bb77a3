package capture_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/capture"
	"github.com/dedupsim/dedupsim/core/meta"
)

// personal collects the string values of the fields that name a person, a
// number or an id, anywhere in body.
func personal(tb testing.TB, body []byte) []string {
	tb.Helper()
	var v any
	require.NoError(tb, json.Unmarshal(body, &v))
	keys := map[string]bool{"wa_id": true, "from": true,
		"display_phone_number": true, "recipient_id": true, "name": true,
		"id": true, "phone_number_id": true, "body": true}
	var out []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, c := range t {
				walk(k, c)
			}
		case []any:
			for _, c := range t {
				walk(key, c)
			}
		case string:
			if keys[key] && t != "" {
				out = append(out, t)
			}
		}
	}
	walk("", v)
	return out
}

// scrubbed scrubs the burst capture with key.
func scrubbed(tb testing.TB, key string) []capture.Delivery {
	tb.Helper()
	out, err := capture.Scrub(burst(tb), capture.ScrubOptions{Key: []byte(key),
		Secret: "scrubbed-secret", AppSecret: burstSecret})
	require.NoError(tb, err)
	return out
}

func TestAScrubbedCaptureKeepsNoneOfItsPersonalDetails(t *testing.T) {
	var file bytes.Buffer
	require.NoError(t, capture.Write(&file, scrubbed(t, "k")))
	text := file.String()

	var originals []string
	for _, d := range burst(t) {
		originals = append(originals, personal(t, d.Body)...)
	}
	require.Contains(t, originals, "Test User Alpha")
	require.Contains(t, originals, "15550000002")
	require.Contains(t, originals, "200000000000001")
	for _, v := range originals {
		require.NotContains(t, text, v)
		// Bodies escape non-ASCII: look for the escaped form too.
		require.NotContains(t, text, string(meta.EscapeNonASCII([]byte(v))))
	}
}

func TestScrubbedSignaturesVerifyWithTheNewSecret(t *testing.T) {
	for _, d := range scrubbed(t, "k") {
		require.NoError(t, meta.Verify("scrubbed-secret", d.Body, d.Signature()))
		require.Error(t, meta.Verify(burstSecret, d.Body, d.Signature()))
	}
}

func TestScrubbingIsConsistentWithinAFileAndByKey(t *testing.T) {
	out := scrubbed(t, "k")
	require.Equal(t, out[0].Body, out[2].Body, "copies stay identical")
	require.Equal(t, out[0].Body, out[4].Body)

	a, err := meta.Parse(out[0].Body)
	require.NoError(t, err)
	b, err := meta.Parse(out[1].Body)
	require.NoError(t, err)
	require.Equal(t, a.Messages[0].PhoneNumberID, b.Messages[0].PhoneNumberID)
	require.NotEqual(t, a.Messages[0].ID, b.Messages[0].ID)
	require.True(t, strings.HasPrefix(a.Messages[0].ID, "wamid."))
	require.Len(t, a.Messages[0].From, len("15550000002"))
	require.Regexp(t, `^Contact [0-9a-f]{6}$`, a.Messages[0].ContactName)

	require.Equal(t, out, scrubbed(t, "k"), "the same key gives the same file")
	require.NotEqual(t, out[0].Body, scrubbed(t, "other")[0].Body)
}

func TestScrubbingKeepsTheOrderOfFieldsAndTheHeadersThatMatter(t *testing.T) {
	out := scrubbed(t, "k")
	require.True(t, bytes.HasPrefix(out[0].Body,
		[]byte(`{"object":"whatsapp_business_account","entry":[{"id":"`)))
	require.Equal(t, map[string]string{"Content-Type": "application/json",
		meta.SignatureHeader: out[0].Signature()}, out[0].Header)
}

func TestABodyThatIsNotJSONKeepsOnlyItsLength(t *testing.T) {
	ds := []capture.Delivery{{Body: []byte(`{"wa_id":"15550000002",`),
		Header: map[string]string{meta.SignatureHeader: "sha256=00"}}}
	out, err := capture.Scrub(ds, capture.ScrubOptions{Key: []byte("k"),
		Secret: "s"})
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("x", len(ds[0].Body)), string(out[0].Body))
}

func TestAForgedDeliveryStaysForged(t *testing.T) {
	ds := burst(t)
	// Changed after it was signed.
	ds[3].Body = bytes.Replace(ds[3].Body, []byte("delivered"), []byte("read"), 1)
	require.True(t, json.Valid(ds[3].Body))
	out, err := capture.Scrub(ds, capture.ScrubOptions{Key: []byte("k"),
		Secret: "s", AppSecret: burstSecret})
	require.NoError(t, err)
	require.Error(t, meta.Verify("s", out[3].Body, out[3].Signature()))
	require.NoError(t, meta.Verify("s", out[0].Body, out[0].Signature()))
}

func TestScrubNeedsASecretAndAKey(t *testing.T) {
	_, err := capture.Scrub(burst(t), capture.ScrubOptions{Key: []byte("k")})
	require.ErrorIs(t, err, capture.ErrNoSecret)
	_, err = capture.Scrub(burst(t), capture.ScrubOptions{Secret: "s"})
	require.Error(t, err)
}
