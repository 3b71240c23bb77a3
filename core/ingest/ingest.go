// Package ingest is the reference ingest endpoint: an http.Handler that
// answers the provider's subscription handshake and turns every verified
// webhook POST into durable queue jobs, one per message, before it answers
// 200.
//
// A POST is read up to MaxBody bytes (413 above), its X-Hub-Signature-256
// verified over the exact bytes received (401), and parsed (400 for a body
// that is not a WhatsApp Business Account notification). Each message of
// every entry and change is routed by its phone number id: a routed one
// becomes a flow.Job in core/queue; one for an unknown number is counted,
// logged and dropped. Statuses update the outbound message they name. The
// jobs and the status updates of one POST commit in one transaction, and
// only then is the delivery answered 200: a receiver that dies after its
// answer has already made the delivery durable.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/queue"
	"github.com/dedupsim/dedupsim/core/store"
)

// MaxBody is the largest body accepted: 3 MiB (3,145,728 bytes). The
// provider's limit is "3 MB"; reading it as mebibytes, the larger of the
// two readings, never refuses a body the provider may legitimately send.
const MaxBody = 3 << 20

// JobKind is the kind of the jobs the handler enqueues: one provider
// message each, with a flow.Job as payload.
const JobKind = "message"

// Worker is the name the handler passes its checkpoint under.
const Worker = "ingest"

// ErrInvalidConfig is wrapped by errors about a Config.
var ErrInvalidConfig = errors.New("invalid ingest config")

// Beginner opens the transaction a delivery's jobs and status updates
// commit in; a *pgxpool.Pool is one.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Config configures a Handler.
type Config struct {
	// AppSecret verifies every POST's signature. Required.
	AppSecret string
	// VerifyToken answers the subscription handshake. Empty refuses every
	// handshake.
	VerifyToken string
	// DB opens the transaction each delivery commits in. Required.
	DB Beginner
	// Queue receives the jobs. Required.
	Queue *queue.Queue
	// Router maps phone number ids to inboxes. Default: the inboxes table,
	// read through DB when it is also a store.Querier.
	Router Router
	// Hook watches the ingest.accepted checkpoint; nil outside the
	// simulator.
	Hook checkpoint.Hook
	// Logger receives a record per rejected request and per unroutable
	// message. Default: discards.
	Logger *slog.Logger
	// MaxBody bounds a body in bytes. Default MaxBody.
	MaxBody int64
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxBody == 0 {
		c.MaxBody = MaxBody
	}
	if c.Router == nil {
		if q, ok := c.DB.(store.Querier); ok {
			c.Router = StoreRouter{DB: q}
		}
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.AppSecret == "":
		return fmt.Errorf("no app secret: %w", ErrInvalidConfig)
	case c.DB == nil:
		return fmt.Errorf("no database: %w", ErrInvalidConfig)
	case c.Queue == nil:
		return fmt.Errorf("no queue: %w", ErrInvalidConfig)
	case c.Router == nil:
		return fmt.Errorf("no router, and the database cannot route: %w",
			ErrInvalidConfig)
	case c.MaxBody < 0:
		return fmt.Errorf("max body %d is negative: %w", c.MaxBody, ErrInvalidConfig)
	}
	return nil
}

// Handler is the ingest endpoint. It is safe for concurrent use.
type Handler struct {
	cfg   Config
	stats counters
}

// New returns the handler cfg describes.
func New(cfg Config) (*Handler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new ingest handler: %w", err)
	}
	return &Handler{cfg: cfg}, nil
}

// ServeHTTP answers GET with the subscription handshake and POST with a
// delivery; other methods get 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.handshake(w, r)
	case http.MethodPost:
		h.deliver(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		h.reject(w, r, ReasonMethod, http.StatusMethodNotAllowed,
			fmt.Errorf("method %s", r.Method))
	}
}

// Stats returns the handler's counters so far.
func (h *Handler) Stats() Stats { return h.stats.snapshot() }

// reject counts and logs a refused request and answers it with code.
func (h *Handler) reject(w http.ResponseWriter, r *http.Request, reason Reason,
	code int, err error) {
	h.stats.reject(reason)
	h.cfg.Logger.WarnContext(r.Context(), "ingest rejected a request",
		"reason", string(reason), "status", code, "remote_addr", r.RemoteAddr,
		"error", err)
	http.Error(w, http.StatusText(code), code)
}
