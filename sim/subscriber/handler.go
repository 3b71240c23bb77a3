package subscriber

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dedupsim/dedupsim/core/dispatch"
)

// maxBody bounds the webhook bodies the receiver reads.
const maxBody = 1 << 20

// errUnknownPath marks a request for a path no endpoint serves.
var errUnknownPath = errors.New("unknown path")

// serveHTTP records one request and answers it: the endpoint's status for
// a valid webhook, 401 for a bad signature, 404 for an unknown path.
func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	d := r.arrive(req)
	ep, known := r.endpoints[d.Path]
	status, errs := r.inspect(&d, ep, known, w, req)

	if err := r.hold(req, ep.Delay); err != nil {
		r.record(d, 0, append(errs, err))
		// Cut the connection: an empty handler would answer 200.
		panic(http.ErrAbortHandler)
	}
	r.record(d, status, errs)
	if known && len(errs) == 0 && r.loseResponse(ep) {
		// Accepted and recorded; the answer never reaches the sender.
		panic(http.ErrAbortHandler)
	}
	w.WriteHeader(status)
}

// loseResponse reports whether this answer of ep is one of those lost.
func (r *Receiver) loseResponse(ep Endpoint) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lost[ep.Path] >= ep.LoseResponses {
		return false
	}
	r.lost[ep.Path]++
	return true
}

// arrive numbers a request and stamps its arrival.
func (r *Receiver) arrive(req *http.Request) Delivery {
	r.mu.Lock()
	r.seq++
	seq := r.seq
	r.mu.Unlock()
	return Delivery{
		Seq:       seq,
		Path:      req.URL.Path,
		At:        r.cfg.Now(),
		WebhookID: req.Header.Get(dispatch.HeaderID),
		Timestamp: req.Header.Get(dispatch.HeaderTimestamp),
	}
}

// inspect reads the body into d, verifies and decodes it, and returns the
// status to answer with what was wrong.
func (r *Receiver) inspect(
	d *Delivery, ep Endpoint, known bool, w http.ResponseWriter, req *http.Request,
) (int, []error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
	d.Body = body
	if err != nil {
		return http.StatusBadRequest, []error{fmt.Errorf("read body: %w", err)}
	}
	var errs []error
	if err := json.Unmarshal(body, &d.Event); err != nil {
		errs = append(errs, fmt.Errorf("decode event: %w", err))
	}

	switch {
	case !known:
		return http.StatusNotFound, append(errs, errUnknownPath)
	case req.Method != http.MethodPost:
		return http.StatusMethodNotAllowed, append(errs,
			fmt.Errorf("method %s: not POST", req.Method))
	}
	if err := r.verify(ep, req.Header, body, d.At); err != nil {
		return http.StatusUnauthorized, append(errs, err)
	}
	d.Valid = true
	return ep.Status, errs
}

// verify accepts a webhook signed under any of the endpoint's secrets and
// otherwise returns the first secret's complaint.
func (r *Receiver) verify(
	ep Endpoint, h http.Header, body []byte, now time.Time,
) error {
	var first error
	for _, secret := range ep.Secrets {
		err := dispatch.Verify(secret, h, body, now, r.cfg.Tolerance)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// hold waits out an endpoint's delay. It fails when the client gives up
// or the receiver closes first.
func (r *Receiver) hold(req *http.Request, delay time.Duration) error {
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	if r.cfg.onHold != nil {
		r.cfg.onHold()
	}
	select {
	case <-t.C:
		return nil
	case <-req.Context().Done():
		return errors.New("abandoned: the client went away")
	case <-r.quit:
		return errors.New("abandoned: the receiver closed")
	}
}

// record stores a finished delivery with its answer.
func (r *Receiver) record(d Delivery, status int, errs []error) {
	d.Status = status
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	d.Err = strings.Join(msgs, "; ")
	r.mu.Lock()
	r.deliveries = append(r.deliveries, d)
	r.mu.Unlock()
}
