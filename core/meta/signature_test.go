package meta

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The expected digests were computed outside Go, with
// printf '%s' "$BODY" | openssl dgst -sha256 -hmac known-vector-secret.
const (
	vectorSecret    = "known-vector-secret"
	vectorBody      = `{"object":"whatsapp_business_account","entry":[]}`
	vectorSignature = "sha256=" +
		"b8fafe6f23b7328f97a076903e8519ac1f44dde899406fd3e126485b13c0df79"
	emptyBodySignature = "sha256=" +
		"78a8a68866b28b16fa1d0c2bdb6a5d28d547f4a3804173b8b3a7197fe8d00a51"
)

// The first two deliveries of the burst capture, signed with burstSecret:
// testdata/burst-line1-body.json and burst-line2-body.json hold their body
// bytes exactly as the capture lines store them.
const (
	burstSecret    = "synthetic-app-secret-0001"
	burstSignature = "sha256=" +
		"1b21ff9c7d90cedab22c24d8c85bec5ad0b56a6b1f259a893491fcdeb76c3513"
	burstLine2Signature = "sha256=" +
		"8bc6aeb5c3ceeac14f02234060fa80edcfea570090a8378514290c53805052c2"
)

func TestSignMatchesAnIndependentHMAC(t *testing.T) {
	t.Parallel()
	require.Equal(t, vectorSignature, Sign(vectorSecret, []byte(vectorBody)))
	require.Equal(t, emptyBodySignature, Sign(vectorSecret, nil))
	require.NoError(t, Verify(vectorSecret, []byte(vectorBody), vectorSignature))
}

func TestVerifyAcceptsTheCapturedBurstDelivery(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "burst-line1-body.json")

	require.NoError(t, Verify(burstSecret, body, burstSignature))
	require.Equal(t, burstSignature, Sign(burstSecret, body))
}

func TestVerifyAcceptsTheSecondBurstDelivery(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "burst-line2-body.json")

	require.NoError(t, Verify(burstSecret, body, burstLine2Signature))
	d, err := Parse(body)
	require.NoError(t, err)
	require.Equal(t, "Você abre amanhã?", d.Messages[0].Parts[0].Content)
}

func TestBuildTextReproducesCapturedBodiesByteForByte(t *testing.T) {
	t.Parallel()
	cases := []struct{ file, signature string }{
		{"burst-line1-body.json", burstSignature},
		{"burst-line2-body.json", burstLine2Signature},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			body := readTestdata(t, tc.file)
			d, err := Parse(body)
			require.NoError(t, err)
			m := d.Messages[0]

			rebuilt := BuildText(m.PhoneNumberID, m.DisplayPhoneNumber,
				m.BusinessAccountID, TextMessage{
					ID: m.ID, From: m.From, Name: m.ContactName,
					Text: m.Parts[0].Content, Timestamp: m.Timestamp,
				})
			require.Equal(t, string(body), string(rebuilt))
			require.NoError(t, Verify(burstSecret, rebuilt, tc.signature))
		})
	}
}

func TestVerifyFailsOnceTheBodyIsReencoded(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "burst-line1-body.json")

	// Same content, encoded again by a generic decoder: keys come back
	// sorted, so the bytes and the signature differ.
	var doc any
	require.NoError(t, json.Unmarshal(body, &doc))
	reencoded, err := json.Marshal(doc)
	require.NoError(t, err)
	require.JSONEq(t, string(body), string(reencoded))
	require.ErrorIs(t, Verify(burstSecret, reencoded, burstSignature),
		ErrSignatureMismatch)
}

func TestVerifyAcceptsUpperCaseHex(t *testing.T) {
	t.Parallel()
	upper := "sha256=" + strings.ToUpper(strings.TrimPrefix(vectorSignature,
		"sha256="))
	require.NoError(t, Verify(vectorSecret, []byte(vectorBody), upper))
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	hexSum := strings.TrimPrefix(vectorSignature, "sha256=")
	cases := []struct {
		name   string
		secret string
		header string
		want   error
	}{
		{"an empty header", vectorSecret, "", ErrSignatureMissing},
		{"an empty app secret", "", vectorSignature, ErrAppSecretMissing},
		{"another algorithm", vectorSecret, "sha1=" + hexSum,
			ErrSignatureMalformed},
		{"a digest without prefix", vectorSecret, hexSum,
			ErrSignatureMalformed},
		{"a prefix alone", vectorSecret, "sha256=", ErrSignatureMalformed},
		{"a short digest", vectorSecret, vectorSignature[:70],
			ErrSignatureMalformed},
		{"a long digest", vectorSecret, vectorSignature + "00",
			ErrSignatureMalformed},
		{"a digest that is not hex", vectorSecret,
			"sha256=" + strings.Repeat("zz", 32), ErrSignatureMalformed},
		{"padding around the header", vectorSecret, " " + vectorSignature,
			ErrSignatureMalformed},
		{"another app secret", "other-secret", vectorSignature,
			ErrSignatureMismatch},
		{"the signature of another body", vectorSecret,
			emptyBodySignature, ErrSignatureMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tc.secret, []byte(vectorBody), tc.header)
			require.ErrorIs(t, err, tc.want)
		})
	}
}
