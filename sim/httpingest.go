package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/ingest"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim/clock"
	"github.com/dedupsim/dedupsim/sim/history"
)

// provider is the worker name of the simulated provider's requests in the
// history.
const provider = "provider"

// httpIngest is a run's ingest endpoint on a loopback port and the
// simulated provider that posts to it. The provider sends each delivery
// on its own goroutine: it waits for the answer up to the scenario's
// timeout and, without a 200 in time, sends the delivery again at T, 2T, …
// after the first try, T being the timeout.
type httpIngest struct {
	handler *ingest.Handler
	srv     *http.Server
	url     string
	client  *http.Client
	served  chan struct{}
	quit    chan struct{} // closed by close: held answers go out at once

	sending   sync.WaitGroup // the provider's deliveries in flight
	closeOnce sync.Once
}

// ingestHTTP hands one arrival to the simulated provider. It returns at
// once, except for the run's last arrival: then it waits until the
// provider has done with every delivery, so that the workers see every
// job before they learn that nothing more comes.
func (e *runEnv) ingestHTTP(ctx context.Context, a scenarios.Arrival, t *Trial) error {
	if e.http == nil {
		h, err := startHTTPIngest(ctx, e)
		if err != nil {
			return err
		}
		e.http = h
	}
	due := e.clock.Now()
	e.http.sending.Go(func() { e.provide(ctx, a, due) })

	last := e.sc.Arrivals[len(e.sc.Arrivals)-1]
	if a.Delivery != last.Delivery || a.Copy != last.Copy {
		return nil
	}
	e.http.sending.Wait()
	st := e.http.handler.Stats()
	t.Statuses += int(st.StatusesApplied + st.StatusesIgnored)
	t.Unroutable += int(st.Unroutable)
	return nil
}

// startHTTPIngest serves the ingest handler on the run's queue and
// inboxes, answering after the scenario's ack delay.
func startHTTPIngest(ctx context.Context, e *runEnv) (*httpIngest, error) {
	h, err := ingest.New(ingest.Config{AppSecret: e.sc.AppSecret, DB: e.run.DB,
		Queue: e.queue, Router: ingest.Inboxes(e.inboxes),
		Hook: recordHook{e.rec}})
	if err != nil {
		return nil, fmt.Errorf("start ingest endpoint: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start ingest endpoint: %w", err)
	}
	hi := &httpIngest{handler: h, url: "http://" + ln.Addr().String() + "/",
		served: make(chan struct{}), quit: make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{}}}
	hi.srv = &http.Server{Handler: hi.slowAck(e.sc.Ingest.AckDelay()),
		ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(hi.served)
		_ = hi.srv.Serve(ln) // ends with ErrServerClosed on close
	}()
	return hi, nil
}

// closeHTTP stops the run's endpoint, if it started: pending deliveries
// end with the run's context, held answers go out, the server stops.
func (e *runEnv) closeHTTP() {
	if e.http == nil {
		return
	}
	h := e.http
	h.closeOnce.Do(func() {
		close(h.quit)
		h.sending.Wait()
		_ = h.srv.Close()
		<-h.served
		h.client.CloseIdleConnections()
	})
}

// provide sends one arrival until it is answered 200 in time or its
// redeliveries run out.
func (e *runEnv) provide(ctx context.Context, a scenarios.Arrival, due time.Time) {
	in := e.sc.Ingest
	for try := 0; try <= in.Redeliver; try++ {
		at := due.Add(time.Duration(try) * in.ProviderTimeout())
		for e.clock.Now().Before(at) {
			if clock.Sleep(ctx, min(poll, at.Sub(e.clock.Now()))) != nil {
				return
			}
		}
		ok := e.post(ctx, a, try+1)
		if ok || ctx.Err() != nil {
			return
		}
	}
}

// post sends one try of an arrival and notes how it was answered. It
// reports whether a 200 came within the provider's timeout.
func (e *runEnv) post(ctx context.Context, a scenarios.Arrival, try int) bool {
	reqCtx := ctx
	if d := e.sc.Ingest.ProviderTimeout(); d > 0 {
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	started := time.Now()
	status, err := send(reqCtx, e.http.client, e.http.url, a)
	took := time.Since(started).Round(time.Millisecond)

	result := fmt.Sprintf("HTTP %d in %v", status, took)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		result = fmt.Sprintf("no answer within %v: the provider gives up",
			e.sc.Ingest.ProviderTimeout())
		err = nil
	case err != nil:
		result = "no answer"
	}
	e.rec.Add(history.Event{Worker: provider, Phase: history.Note,
		Detail: fmt.Sprintf("POST delivery %d copy %d, try %d", a.Delivery+1,
			a.Copy, try), Result: result, Err: errString(err)})
	return err == nil && status == http.StatusOK
}

// send POSTs an arrival's body with its signature.
func send(ctx context.Context, client *http.Client, url string,
	a scenarios.Arrival) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url,
		bytes.NewReader(a.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(meta.SignatureHeader, a.Signature)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// slowAck serves the handler and holds each answer for d after the
// handler is done: the jobs are committed, the answer is late.
func (h *httpIngest) slowAck(d time.Duration) http.Handler {
	if d <= 0 {
		return h.handler
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held := &heldAnswer{header: http.Header{}, status: http.StatusOK}
		h.handler.ServeHTTP(held, r)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return // the provider gave up: nobody reads the answer
		case <-h.quit:
		}
		for k, v := range held.header {
			w.Header()[k] = v
		}
		w.WriteHeader(held.status)
		_, _ = w.Write(held.body.Bytes())
	})
}

// heldAnswer keeps an answer until it is sent.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *heldAnswer) Header() http.Header         { return a.header }
func (a *heldAnswer) WriteHeader(code int)        { a.status = code }
func (a *heldAnswer) Write(b []byte) (int, error) { return a.body.Write(b) }

// recordHook writes the endpoint's checkpoint into the run's history.
type recordHook struct{ rec *history.Recorder }

// Enter implements checkpoint.Hook.
func (h recordHook) Enter(_ context.Context, p checkpoint.Point) error {
	h.rec.Add(history.Event{Worker: p.Worker, Checkpoint: p.Name,
		Phase: history.Enter, Job: p.Job, Attempt: p.Attempt, Detail: p.Detail})
	return nil
}

// Done implements checkpoint.Hook.
func (h recordHook) Done(_ context.Context, p checkpoint.Point, o checkpoint.Outcome) {
	h.rec.Add(history.Event{Worker: p.Worker, Checkpoint: p.Name,
		Phase: history.Done, Job: p.Job, Attempt: p.Attempt, Detail: p.Detail,
		Result: o.Result, Err: errString(o.Err)})
}
