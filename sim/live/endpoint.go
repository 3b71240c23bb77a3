package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/ingest"
	"github.com/dedupsim/dedupsim/core/queue"
	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/subscriber"
)

// shutdownGrace bounds how long stopping the endpoint waits for requests
// in flight.
const shutdownGrace = 5 * time.Second

// Endpoint is a running ingest endpoint with its workers and subscriber.
// Its methods are safe for concurrent use.
type Endpoint struct {
	cfg      Config
	run      *backend.Run
	queue    *queue.Queue
	handler  *ingest.Handler
	receiver *subscriber.Receiver
	srv      *http.Server
	url      string

	stopWorkers context.CancelFunc
	workers     sync.WaitGroup
	served      chan struct{}
	serveErr    error // read after served is closed

	mu       sync.Mutex
	failures []string

	stopOnce, closeOnce sync.Once
	stopErr, closeErr   error
}

// Start prepares a run on b, creates the inboxes, starts the subscriber,
// the workers and the ingest endpoint. ctx bounds the start only; the
// endpoint runs until Close.
func Start(ctx context.Context, b backend.Backend, cfg Config) (*Endpoint, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("start endpoint: %w", err)
	}
	run, err := b.NewRun(ctx, backend.RunOptions{
		MaxConns: int32(3*cfg.Workers + 16)})
	if err != nil {
		return nil, fmt.Errorf("start endpoint: %w", err)
	}
	e := &Endpoint{cfg: cfg, run: run, served: make(chan struct{})}
	if err := e.setUp(ctx); err != nil {
		e.closeParts()
		return nil, fmt.Errorf("start endpoint: %w", err)
	}
	return e, nil
}

// setUp makes everything the endpoint runs on, then starts it.
func (e *Endpoint) setUp(ctx context.Context) error {
	inboxes, err := e.createInboxes(ctx)
	if err != nil {
		return err
	}
	e.queue, err = queue.New(queue.Config{DB: e.run.DB, Queue: queueName(e.run.ID)})
	if err != nil {
		return err
	}
	e.handler, err = ingest.New(ingest.Config{AppSecret: e.cfg.AppSecret,
		VerifyToken: e.cfg.VerifyToken, DB: e.run.DB, Queue: e.queue,
		Router: inboxes, Logger: e.cfg.Logger})
	if err != nil {
		return err
	}
	secret := newSecret()
	e.receiver, err = subscriber.Start(ctx, subscriber.Config{
		Endpoints: []subscriber.Endpoint{{Path: SubscriberPath,
			Secrets: []string{secret}}}})
	if err != nil {
		return err
	}
	if err := e.startWorkers(ctx, secret); err != nil {
		return err
	}
	return e.listen(ctx)
}

// createInboxes makes an inbox per phone number id and sets the
// strategy's database up.
func (e *Endpoint) createInboxes(ctx context.Context) (ingest.Inboxes, error) {
	st, err := claim.New(e.cfg.Strategy)
	if err != nil {
		return nil, err
	}
	if err := st.Setup(ctx, e.run.DB); err != nil {
		return nil, fmt.Errorf("set up strategy %s: %w", e.cfg.Strategy, err)
	}
	inboxes := ingest.Inboxes{}
	for _, id := range e.cfg.Inboxes {
		if _, seen := inboxes[id]; seen {
			continue
		}
		in, err := store.CreateInbox(ctx, e.run.DB, "inbox-"+id, id)
		if err != nil {
			return nil, err
		}
		inboxes[id] = in
	}
	return inboxes, nil
}

// startWorkers starts the workers, each dispatching to the subscriber.
func (e *Endpoint) startWorkers(ctx context.Context, secret string) error {
	disp, err := dispatch.NewDirect(dispatch.Config{Ledger: e.run.DB,
		Subscriptions: []dispatch.Subscription{{
			URL: e.receiver.URL(SubscriberPath), Secret: secret}}})
	if err != nil {
		return err
	}
	var hook pauser
	hook.p = e.cfg.Pause
	workCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.stopWorkers = cancel
	for i := 1; i <= e.cfg.Workers; i++ {
		st, err := claim.New(e.cfg.Strategy)
		if err != nil {
			return err
		}
		w := &flow.Worker{Name: workerName(i), DB: e.run.DB, Redis: e.run.Redis,
			KeyPrefix: e.run.KeyPrefix, Namespace: namespace(e.run.ID),
			Strategy: st, Dispatcher: disp}
		if e.cfg.Pause.At != "" {
			w.Hook = hook
		}
		e.workers.Go(func() { e.consume(workCtx, w) })
	}
	return nil
}

// listen starts serving the ingest handler on the configured address.
func (e *Endpoint) listen(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", e.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", e.cfg.Addr, err)
	}
	e.url = "http://" + ln.Addr().String() + "/"
	e.srv = &http.Server{Handler: e.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(e.served)
		e.serveErr = serve(e.srv, ln)
	}()
	e.cfg.Logger.InfoContext(ctx, "ingest endpoint listening", "url", e.url,
		"strategy", e.cfg.Strategy, "workers", e.cfg.Workers,
		"inboxes", len(e.cfg.Inboxes))
	return nil
}

// URL is where the endpoint takes deliveries and handshakes, such as
// "http://127.0.0.1:8080/".
func (e *Endpoint) URL() string { return e.url }

// Stats returns the ingest handler's counters.
func (e *Endpoint) Stats() ingest.Stats { return e.handler.Stats() }

// StopIngest stops taking requests and waits for those in flight; the
// workers go on. It is safe to call twice.
func (e *Endpoint) StopIngest() error {
	e.stopOnce.Do(func() {
		if e.srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			e.stopErr = errors.Join(fmt.Errorf("stop ingest: %w", err), e.srv.Close())
		}
		<-e.served
		e.stopErr = errors.Join(e.stopErr, e.serveErr)
	})
	return e.stopErr
}

// Drain waits until the queue holds no pending job: every job is done or
// dead. A job waiting for its retry counts as pending.
func (e *Endpoint) Drain(ctx context.Context) error {
	for {
		n, err := e.queue.Remaining(ctx)
		if err != nil {
			return fmt.Errorf("drain queue: %w", err)
		}
		if n == 0 {
			return nil
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("drain queue: %d jobs left: %w", n, ctx.Err())
		case <-t.C:
		}
	}
}

// Close stops the endpoint, the workers (a job in hand is left to the
// queue) and the subscriber, and drops the run. It is safe to call twice.
func (e *Endpoint) Close() error {
	e.closeOnce.Do(func() {
		e.closeErr = errors.Join(e.StopIngest(), e.closeParts())
		e.cfg.Logger.Info("ingest endpoint stopped", "url", e.url)
	})
	return e.closeErr
}

// closeParts stops the workers and the subscriber and drops the run.
func (e *Endpoint) closeParts() error {
	if e.stopWorkers != nil {
		e.stopWorkers()
	}
	e.workers.Wait()
	var errs []error
	if e.receiver != nil {
		errs = append(errs, e.receiver.Close())
	}
	errs = append(errs, e.run.Close(context.Background()))
	return errors.Join(errs...)
}

// noteFailure records a job that failed, for the summary.
func (e *Endpoint) noteFailure(worker string, s flow.Settled) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures = append(e.failures, fmt.Sprintf("%s %s attempt %d: %v", worker,
		s.Job.Message.ID, s.Job.Attempt, s.Err))
}
