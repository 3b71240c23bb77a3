// Package subscriber is the simulator's webhook subscriber: a real HTTP
// server on the loopback interface that verifies and records every
// message_created webhook it receives, so that a run's checks can count
// webhook ids per message from what actually arrived.
package subscriber

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dedupsim/dedupsim/core/dispatch"
)

// DefaultTolerance is how far a webhook's timestamp may lie from the
// receiver's clock when Config.Tolerance is zero.
const DefaultTolerance = 5 * time.Minute

// shutdownGrace bounds how long Close waits for requests in flight.
const shutdownGrace = 5 * time.Second

// ErrInvalidConfig is wrapped by errors about a receiver Config.
var ErrInvalidConfig = errors.New("invalid subscriber config")

// Endpoint is one subscriber path on the receiver.
type Endpoint struct {
	// Path is the URL path, starting with "/", such as "/crm".
	Path string
	// Secrets verify signatures; a webhook is valid when it verifies under
	// any of them. At least one is required.
	Secrets []string
	// Status is the answer to a validly signed webhook. Default: 200.
	Status int
	// Delay holds every answer of the endpoint this long. Default: none.
	Delay time.Duration
	// LoseResponses is how many of the endpoint's first valid webhooks
	// are recorded as received and accepted, and then lose their answer:
	// the connection is cut before the status goes out.
	LoseResponses int
}

// Config configures a receiver.
type Config struct {
	// Endpoints are the subscriber paths served; each path once.
	Endpoints []Endpoint
	// Logger receives the start and stop records. Default: discards.
	Logger *slog.Logger
	// Now stamps arrivals and checks webhook timestamps. Default: time.Now.
	Now func() time.Time
	// Tolerance bounds the distance of a webhook's timestamp from Now.
	// Default: DefaultTolerance.
	Tolerance time.Duration

	// onHold, when set, is called as a request starts its delay; tests use
	// it to know a request is being held.
	onHold func()
}

func (c Config) withDefaults() Config {
	c.Endpoints = slices.Clone(c.Endpoints)
	for i := range c.Endpoints {
		if c.Endpoints[i].Status == 0 {
			c.Endpoints[i].Status = http.StatusOK
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Tolerance == 0 {
		c.Tolerance = DefaultTolerance
	}
	return c
}

func (c Config) validate() error {
	if c.Tolerance < 0 {
		return fmt.Errorf("tolerance %s is negative: %w", c.Tolerance, ErrInvalidConfig)
	}
	seen := make(map[string]bool, len(c.Endpoints))
	for _, ep := range c.Endpoints {
		if err := ep.validate(); err != nil {
			return fmt.Errorf("endpoint %q: %w", ep.Path, err)
		}
		if seen[ep.Path] {
			return fmt.Errorf("endpoint %q: path served twice: %w",
				ep.Path, ErrInvalidConfig)
		}
		seen[ep.Path] = true
	}
	return nil
}

func (ep Endpoint) validate() error {
	switch {
	case !strings.HasPrefix(ep.Path, "/"):
		return fmt.Errorf("path does not start with /: %w", ErrInvalidConfig)
	case len(ep.Secrets) == 0:
		return fmt.Errorf("no secrets: %w", ErrInvalidConfig)
	case ep.Status < 100 || ep.Status > 599:
		return fmt.Errorf("status %d: %w", ep.Status, ErrInvalidConfig)
	case ep.Delay < 0:
		return fmt.Errorf("delay %s is negative: %w", ep.Delay, ErrInvalidConfig)
	}
	for i, s := range ep.Secrets {
		// Sign fails exactly when the secret does not decode.
		if _, err := dispatch.Sign(s, "", time.Time{}, nil); err != nil {
			return fmt.Errorf("secret %d: %w: %w", i, ErrInvalidConfig, err)
		}
	}
	return nil
}

// Delivery is one request the receiver got, whatever its fate.
type Delivery struct {
	// Seq numbers the deliveries in arrival order, from 1.
	Seq int
	// Path is the request's URL path.
	Path string
	// At is the arrival time by the receiver's clock.
	At time.Time
	// WebhookID is the raw webhook-id header.
	WebhookID string
	// Timestamp is the raw webhook-timestamp header, Unix seconds.
	Timestamp string
	// Valid says the signature verified under one of the endpoint's
	// secrets, with the timestamp within tolerance.
	Valid bool
	// Err says what was wrong with the request; empty when nothing was.
	Err string
	// Status is what the receiver answered; 0 when the request was
	// abandoned before an answer (the client gave up, or Close).
	Status int
	// Event is the decoded body, when it decodes.
	Event dispatch.Event
	// Body is the request body as received.
	Body []byte
}

// Receiver is a running subscriber server. Its methods are safe for
// concurrent use.
type Receiver struct {
	cfg       Config
	endpoints map[string]Endpoint
	base      string
	srv       *http.Server
	served    chan struct{} // closed when the serve goroutine returns
	serveErr  error         // read after served is closed
	quit      chan struct{} // closed by Close, ends delayed answers

	mu         sync.Mutex
	seq        int
	deliveries []Delivery
	lost       map[string]int // answers lost so far, by path

	closeOnce sync.Once
	closeErr  error
}

// Start starts a receiver on a random port of 127.0.0.1. ctx bounds the
// start only; the receiver serves until Close.
func Start(ctx context.Context, cfg Config) (*Receiver, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("start subscriber: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start subscriber: listen: %w", err)
	}

	r := &Receiver{
		cfg:       cfg,
		endpoints: make(map[string]Endpoint, len(cfg.Endpoints)),
		base:      "http://" + ln.Addr().String(),
		served:    make(chan struct{}),
		quit:      make(chan struct{}),
		lost:      map[string]int{},
	}
	for _, ep := range cfg.Endpoints {
		r.endpoints[ep.Path] = ep
	}
	r.srv = &http.Server{
		Handler:           http.HandlerFunc(r.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	go r.serve(ln)

	cfg.Logger.InfoContext(ctx, "subscriber started", "url", r.base,
		"endpoints", len(cfg.Endpoints))
	return r, nil
}

// serve runs the HTTP server until Close.
func (r *Receiver) serve(ln net.Listener) {
	defer close(r.served)
	if err := r.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		r.serveErr = fmt.Errorf("serve subscriber: %w", err)
	}
}

// URL returns the absolute URL of path on the receiver, such as
// "http://127.0.0.1:40123/crm".
func (r *Receiver) URL(path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return r.base + path
}

// Deliveries returns a copy of the deliveries recorded so far, in arrival
// order. A request is recorded just before it is answered.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	out := slices.Clone(r.deliveries)
	r.mu.Unlock()
	for i := range out {
		out[i].Body = slices.Clone(out[i].Body)
	}
	slices.SortFunc(out, func(a, b Delivery) int { return a.Seq - b.Seq })
	return out
}

// Close stops the receiver: it cuts delayed answers short, lets requests
// in flight finish, and waits for the server to stop. It is safe to call
// twice; later calls return the first call's result.
func (r *Receiver) Close() error {
	r.closeOnce.Do(func() {
		close(r.quit)
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		var errs []error
		if err := r.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down subscriber: %w", err))
			errs = append(errs, r.srv.Close())
		}
		<-r.served
		errs = append(errs, r.serveErr)
		r.closeErr = errors.Join(errs...)
		r.cfg.Logger.Info("subscriber stopped", "url", r.base)
	})
	return r.closeErr
}
