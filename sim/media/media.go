// Package media is the provider's media server as the simulator plays it:
// a local HTTP server that answers downloads after a set delay, and fails
// the first few downloads of each media id when told to.
package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config sets how the server behaves.
type Config struct {
	// Delay is how long each download takes.
	Delay time.Duration
	// FailFirst is how many downloads of each media id fail with HTTP 500
	// before one succeeds.
	FailFirst int
}

// Server serves media on 127.0.0.1.
type Server struct {
	cfg  Config
	srv  *http.Server
	ln   net.Listener
	done chan struct{}

	mu    sync.Mutex
	tries map[string]int

	closeOnce sync.Once
	closeErr  error
}

// Start starts a server on a free loopback port.
func Start(cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start media server: %w", err)
	}
	s := &Server{cfg: cfg, ln: ln, tries: map[string]int{}, done: make(chan struct{})}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve),
		ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is the download address of media id.
func (s *Server) URL(id string) string {
	return "http://" + s.ln.Addr().String() + "/media/" + id
}

// Close stops the server and waits for it. It is safe to call twice.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.srv.Close()
		<-s.done
	})
	return s.closeErr
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/media/")
	s.mu.Lock()
	s.tries[id]++
	try := s.tries[id]
	s.mu.Unlock()

	t := time.NewTimer(s.cfg.Delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	if try <= s.cfg.FailFirst {
		http.Error(w, "media temporarily unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write([]byte("media " + id))
}

// ErrDownload is wrapped by the error of a download that did not succeed.
var ErrDownload = errors.New("media download failed")

// Fetch downloads url with client and reports the size it got.
func Fetch(ctx context.Context, client *http.Client, url string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w: %w", url, ErrDownload, err)
	}
	defer resp.Body.Close()
	var n int64
	buf := make([]byte, 32<<10)
	for {
		k, rerr := resp.Body.Read(buf)
		n += int64(k)
		if rerr != nil {
			break
		}
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("download %s: %w: HTTP %d", url, ErrDownload, resp.StatusCode)
	}
	return n, nil
}
