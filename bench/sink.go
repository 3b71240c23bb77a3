package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// sink is the benchmark's webhook subscriber: a loopback HTTP server that
// answers every POST at once and counts them. Unlike the simulator's
// subscriber it verifies and keeps nothing, so that its own cost in this
// process stays small.
type sink struct {
	url    string
	srv    *http.Server
	served sync.WaitGroup
	posts  atomic.Int64
}

// startSink starts a sink on a random port of 127.0.0.1.
func startSink(ctx context.Context) (*sink, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start webhook sink: %w", err)
	}
	s := &sink{url: "http://" + ln.Addr().String() + "/webhooks"}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second}
	s.served.Go(func() { _ = s.srv.Serve(ln) })
	return s, nil
}

func (s *sink) serveHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	s.posts.Add(1)
	w.WriteHeader(http.StatusOK)
}

// close stops the sink and waits for it.
func (s *sink) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	s.served.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop webhook sink: %w", err)
	}
	return nil
}

// newHTTPClient returns the client both the flow's dispatcher and the
// floor post with: it keeps a connection per worker, so that neither
// pays for a new connection per webhook.
func newHTTPClient(workers int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * workers
	tr.MaxIdleConnsPerHost = 2 * workers
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
