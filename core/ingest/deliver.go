package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/store"
)

// ErrTooLarge is wrapped by the error of a body larger than MaxBody.
var ErrTooLarge = errors.New("body too large")

// plan is what one delivery writes: a job payload per routed message and
// the statuses that name an inbox.
type plan struct {
	jobs     [][]byte
	statuses []routedStatus
	// firstID names the delivery's first message in the checkpoint.
	firstID string
	out     outcome
}

type routedStatus struct {
	inbox  store.Inbox
	status meta.Status
}

// deliver handles a POST: read, verify, parse, route, commit, answer.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request) {
	body, err := h.read(w, r)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, ErrTooLarge) || errors.As(err, &tooLarge):
		h.reject(w, r, ReasonTooLarge, http.StatusRequestEntityTooLarge, err)
		return
	case err != nil:
		h.reject(w, r, ReasonUnreadable, http.StatusBadRequest, err)
		return
	}
	sig := r.Header.Get(meta.SignatureHeader)
	if err := meta.Verify(h.cfg.AppSecret, body, sig); err != nil {
		h.reject(w, r, ReasonSignature, http.StatusUnauthorized, err)
		return
	}
	d, err := meta.Parse(body)
	if err != nil {
		h.reject(w, r, parseReason(err), http.StatusBadRequest, err)
		return
	}

	out, err := h.accept(r.Context(), d)
	if err != nil {
		h.reject(w, r, ReasonUnavailable, http.StatusServiceUnavailable, err)
		return
	}
	h.stats.accept(out)
	w.WriteHeader(http.StatusOK)
}

// read reads the whole body, refusing one larger than MaxBody.
func (h *Handler) read(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > h.cfg.MaxBody {
		return nil, fmt.Errorf("read body of %d bytes, more than %d: %w",
			r.ContentLength, h.cfg.MaxBody, ErrTooLarge)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return body, nil
}

// parseReason classifies a meta.Parse error.
func parseReason(err error) Reason {
	switch {
	case errors.Is(err, meta.ErrMalformed):
		return ReasonMalformed
	case errors.Is(err, meta.ErrUnexpectedObject):
		return ReasonUnexpectedObject
	}
	return ReasonInvalid
}

// accept routes the delivery, commits its jobs and status updates, and
// passes ingest.accepted.
func (h *Handler) accept(ctx context.Context, d *meta.Delivery) (outcome, error) {
	p, err := h.route(ctx, d)
	if err != nil {
		return outcome{}, err
	}
	if len(p.jobs) > 0 || len(p.statuses) > 0 {
		if err := h.commit(ctx, &p); err != nil {
			return outcome{}, err
		}
	}

	tr := checkpoint.Tracer{Hook: h.cfg.Hook, Worker: Worker}.ForJob(p.firstID, 1)
	detail := fmt.Sprintf("%d jobs, %d unroutable, %d statuses", p.out.jobs,
		p.out.unroutable, len(d.Statuses))
	if err := tr.Enter(ctx, checkpoint.IngestAccepted, detail); err != nil {
		// The jobs are committed: the provider, told to retry, sends
		// copies that the workers' guard has to catch.
		return outcome{}, fmt.Errorf("pass %s after commit: %w",
			checkpoint.IngestAccepted, err)
	}
	tr.Done(ctx, checkpoint.IngestAccepted, detail, "HTTP 200", nil)
	return p.out, nil
}

// route resolves every message and status to its inbox and encodes the
// job payloads. Messages for unknown numbers are counted and logged.
func (h *Handler) route(ctx context.Context, d *meta.Delivery) (plan, error) {
	var p plan
	for _, m := range d.Messages {
		in, ok, err := h.cfg.Router.Route(ctx, m.PhoneNumberID)
		if err != nil {
			return plan{}, fmt.Errorf("route message %s: %w", m.ID, err)
		}
		if !ok {
			p.out.unroutable++
			h.cfg.Logger.WarnContext(ctx, "ingest dropped an unroutable message",
				"message_id", m.ID, "phone_number_id", m.PhoneNumberID)
			continue
		}
		payload, err := json.Marshal(flow.Job{Message: m, Inbox: in})
		if err != nil {
			return plan{}, fmt.Errorf("encode job %s: %w", m.ID, err)
		}
		if p.firstID == "" {
			p.firstID = m.ID
		}
		p.jobs = append(p.jobs, payload)
	}
	for _, s := range d.Statuses {
		in, ok, err := h.cfg.Router.Route(ctx, s.PhoneNumberID)
		if err != nil {
			return plan{}, fmt.Errorf("route status of %s: %w", s.MessageID, err)
		}
		if !ok {
			p.out.ignored++
			continue
		}
		p.statuses = append(p.statuses, routedStatus{inbox: in, status: s})
	}
	return p, nil
}

// commit enqueues the jobs and applies the statuses in one transaction.
func (h *Handler) commit(ctx context.Context, p *plan) error {
	tx, err := h.cfg.DB.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin delivery: %w", err)
	}
	// Rollback after a successful Commit is a no-op.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	for _, payload := range p.jobs {
		if _, err := h.cfg.Queue.EnqueueIn(ctx, tx, JobKind, payload,
			time.Time{}); err != nil {
			return err
		}
		p.out.jobs++
	}
	for _, rs := range p.statuses {
		s := rs.status
		found, err := store.ApplyStatus(ctx, tx, rs.inbox.ID, s.MessageID, s.Status)
		if err != nil {
			return err
		}
		if found {
			p.out.applied++
		} else {
			p.out.ignored++
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit delivery: %w", err)
	}
	return nil
}
