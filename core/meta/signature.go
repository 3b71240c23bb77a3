package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SignatureHeader is the request header that carries a body's signature.
const SignatureHeader = "X-Hub-Signature-256"

// signaturePrefix names the algorithm in front of the hex digest.
const signaturePrefix = "sha256="

// Verify errors. Every error Verify returns wraps exactly one of them.
var (
	// ErrSignatureMissing means the request carried no signature.
	ErrSignatureMissing = errors.New("signature missing")
	// ErrSignatureMalformed means the header is not "sha256=" followed by
	// a 64-digit hex digest.
	ErrSignatureMalformed = errors.New("signature malformed")
	// ErrSignatureMismatch means the signature was not made with the app
	// secret over these exact bytes.
	ErrSignatureMismatch = errors.New("signature mismatch")
	// ErrAppSecretMissing means the receiver has no app secret to verify
	// with; an empty key would let anyone forge a signature.
	ErrAppSecretMissing = errors.New("app secret missing")
)

// Sign returns the SignatureHeader value for body: "sha256=" and the
// lowercase hex HMAC-SHA256 of the raw bytes keyed with appSecret.
func Sign(appSecret string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(digest(appSecret, body))
}

// Verify reports whether header is the signature of body under
// appSecret. It must see the bytes exactly as received: decoding and
// re-encoding the JSON changes them. The digest is compared in constant
// time.
func Verify(appSecret string, body []byte, header string) error {
	switch {
	case appSecret == "":
		return fmt.Errorf("verify signature: %w", ErrAppSecretMissing)
	case header == "":
		return fmt.Errorf("verify signature: %w", ErrSignatureMissing)
	}

	hexSum, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return fmt.Errorf("verify signature: want prefix %q: %w",
			signaturePrefix, ErrSignatureMalformed)
	}
	sum, err := hex.DecodeString(hexSum)
	if err != nil || len(sum) != sha256.Size {
		return fmt.Errorf("verify signature: want %d hex digits: %w",
			2*sha256.Size, ErrSignatureMalformed)
	}

	if !hmac.Equal(sum, digest(appSecret, body)) {
		return fmt.Errorf("verify signature: %w", ErrSignatureMismatch)
	}
	return nil
}

func digest(appSecret string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return mac.Sum(nil)
}
