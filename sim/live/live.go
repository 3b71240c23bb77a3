// Package live runs the reference flow as a service on one backend run:
// the ingest endpoint on a loopback port, workers taking its jobs from the
// durable queue, and a recording subscriber for their webhooks. Summary
// says what became of every message: its jobs, its stored rows and the
// webhooks the subscriber received, judged by the run's properties.
package live

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/flow"
)

// DefaultStrategy is the dedup strategy when Config.Strategy is empty.
const DefaultStrategy = "db-unique"

// DefaultWorkers is the number of workers when Config.Workers is 0.
const DefaultWorkers = 4

// SubscriberPath is where the recording subscriber receives webhooks.
const SubscriberPath = "/webhooks/live"

// ErrInvalidConfig is wrapped by errors about a Config.
var ErrInvalidConfig = errors.New("invalid live config")

// ErrNotLoopback is wrapped by the error for an address off the loopback
// interface: the endpoint serves this machine only.
var ErrNotLoopback = errors.New("not a loopback address")

// Pause holds every worker at one checkpoint for a while, widening the
// window between a guard's steps as a slow Redis or a stalled process
// would.
type Pause struct {
	// At is the checkpoint; empty means no pause.
	At checkpoint.Name
	// For is how long each worker is held there.
	For time.Duration
}

// Config configures an Endpoint.
type Config struct {
	// Addr is the loopback host:port the endpoint listens on. Default
	// "127.0.0.1:0", a free port.
	Addr string
	// AppSecret verifies the deliveries' signatures. Required.
	AppSecret string
	// VerifyToken answers the subscription handshake; empty refuses it.
	VerifyToken string
	// Inboxes are the phone number ids routed to an inbox; at least one.
	Inboxes []string
	// Strategy is the workers' dedup strategy. Default DefaultStrategy.
	Strategy string
	// Workers is how many workers take jobs. Default DefaultWorkers.
	Workers int
	// Pause, when its At is set, holds every worker there.
	Pause Pause
	// Logger receives the endpoint's start and stop records and the
	// ingest handler's. Default: discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Strategy == "" {
		c.Strategy = DefaultStrategy
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.AppSecret == "":
		return fmt.Errorf("no app secret: %w", ErrInvalidConfig)
	case len(c.Inboxes) == 0:
		return fmt.Errorf("no inbox: %w", ErrInvalidConfig)
	case c.Workers < 1:
		return fmt.Errorf("%d workers: %w", c.Workers, ErrInvalidConfig)
	case c.Pause.For < 0:
		return fmt.Errorf("pause of %s: %w", c.Pause.For, ErrInvalidConfig)
	}
	if err := CheckLoopback(c.Addr); err != nil {
		return err
	}
	st, err := claim.New(c.Strategy)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return checkPause(st, c.Pause.At)
}

// checkPause makes sure a worker of strategy st passes checkpoint at.
func checkPause(st claim.Strategy, at checkpoint.Name) error {
	if at == "" {
		return nil
	}
	if !checkpoint.Known(at) {
		return fmt.Errorf("pause at %q: %w: %w", at, checkpoint.ErrUnknown,
			ErrInvalidConfig)
	}
	for _, n := range flow.Checkpoints(st, true, false, false) {
		if n == at {
			return nil
		}
	}
	return fmt.Errorf("pause at %s: strategy %s never passes it: %w", at,
		st.Name(), ErrInvalidConfig)
}

// CheckLoopback reports whether addr, a host:port, is on the loopback
// interface: localhost, or an address in 127.0.0.0/8 or ::1.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w: %w", addr, err, ErrInvalidConfig)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q: %w", addr, ErrNotLoopback)
	}
	return nil
}

// pauser is the hook that holds workers at Pause.At.
type pauser struct{ p Pause }

// Enter implements checkpoint.Hook.
func (h pauser) Enter(ctx context.Context, p checkpoint.Point) error {
	if p.Name != h.p.At || h.p.For <= 0 {
		return nil
	}
	t := time.NewTimer(h.p.For)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done implements checkpoint.Hook.
func (pauser) Done(context.Context, checkpoint.Point, checkpoint.Outcome) {}

// namespace hashes a run id to the first key of its advisory locks.
func namespace(runID string) int32 {
	h := fnv.New32a()
	h.Write([]byte(runID))
	return int32(h.Sum32())
}

// newSecret returns a fresh Standard Webhooks secret.
func newSecret() string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte(rand.Text()))
}

// serve runs srv on ln until it is shut down.
func serve(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve ingest: %w", err)
	}
	return nil
}

// workerName names worker i, from 1.
func workerName(i int) string { return fmt.Sprintf("W%d", i) }

// consume runs one worker until ctx ends, noting failed jobs.
func (e *Endpoint) consume(ctx context.Context, w *flow.Worker) {
	err := w.Consume(ctx, e.queue, func(s flow.Settled) {
		if s.Err != nil {
			e.noteFailure(w.Name, s)
		}
	})
	if err != nil {
		e.cfg.Logger.Error("worker stopped", "worker", w.Name, "error", err)
	}
}

// queueName names the run's queue.
func queueName(runID string) string { return "live-" + runID }
