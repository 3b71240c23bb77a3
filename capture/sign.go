package capture

import "github.com/dedupsim/dedupsim/core/meta"

// Resign returns ds with every signature made anew with secret, keeping
// each delivery's recorded verdict where it can be known: a delivery
// recorded without a signature stays without, and, when appSecret is set,
// one whose recorded signature fails under appSecret gets one that fails
// under secret.
func Resign(ds []Delivery, secret, appSecret string) []Delivery {
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		out[i] = d
		out[i].SetSignature(signature(d, d.Body, secret, appSecret))
	}
	return out
}

// Unverified lists the lines whose recorded signature does not verify
// under appSecret: the endpoint will answer them 401.
func Unverified(ds []Delivery, appSecret string) []int {
	var lines []int
	for _, d := range ds {
		if meta.Verify(appSecret, d.Body, d.Signature()) != nil {
			lines = append(lines, d.Line)
		}
	}
	return lines
}

// signature signs body, the new body of orig, with secret, keeping the
// recorded verdict: none when none was recorded, and one that fails when
// the recorded one failed under appSecret.
func signature(orig Delivery, body []byte, secret, appSecret string) string {
	recorded := orig.Signature()
	if recorded == "" {
		return ""
	}
	if appSecret != "" && meta.Verify(appSecret, orig.Body, recorded) != nil {
		return meta.Sign(secret, append([]byte("forged:"), body...))
	}
	return meta.Sign(secret, body)
}
