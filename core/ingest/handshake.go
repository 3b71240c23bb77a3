package ingest

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
)

// errHandshake is logged for a refused handshake.
var errHandshake = errors.New("wrong hub.mode or hub.verify_token")

// handshake answers the provider's subscription check: the challenge,
// echoed as plain text, when the mode is subscribe and the token matches;
// 403 otherwise, and always when no VerifyToken is configured.
func (h *Handler) handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get("hub.verify_token")
	ok := q.Get("hub.mode") == "subscribe" && h.cfg.VerifyToken != "" &&
		subtle.ConstantTimeCompare([]byte(token), []byte(h.cfg.VerifyToken)) == 1
	if !ok {
		h.reject(w, r, ReasonHandshake, http.StatusForbidden, errHandshake)
		return
	}
	h.stats.handshake()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, q.Get("hub.challenge"))
}
