// Package testenv gives the project's tests real Redis and Postgres: one
// embedded backend per test binary, started on first use, and a fresh
// database and Redis key prefix for every caller.
//
// A package whose tests call Run makes Main its TestMain, so that the
// backend is closed when the tests end, or are interrupted:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/embedded"
)

// SkipEnv names the environment variable that, set to "1", makes Run
// skip the test where PostgreSQL is not installed, rather than fail it.
const SkipEnv = "DEDUPSIM_SKIP_PG"

// shared is the test binary's one backend.
var shared struct {
	once sync.Once
	mu   sync.Mutex
	b    *embedded.Backend
	err  error // from starting it, or ErrClosed once Main closed it
}

// Run returns a fresh run on the test binary's backend, closed (its
// database dropped, its keys deleted) when the test ends.
//
// Where PostgreSQL is not installed the test fails, saying how to
// install it, unless SkipEnv is set to "1": then it is skipped.
func Run(tb testing.TB) *backend.Run {
	tb.Helper()
	b := Backend(tb)
	r, err := b.NewRun(tb.Context(), backend.RunOptions{})
	require.NoError(tb, err, "start a run")
	tb.Cleanup(func() {
		require.NoError(tb, r.Close(context.Background()), "close run %s", r.ID)
	})
	return r
}

// Backend returns the test binary's backend, for tests of code that
// makes its own runs. It stays up until Main closes it; a missing
// PostgreSQL fails or skips the test as in Run.
func Backend(tb testing.TB) backend.Backend {
	tb.Helper()
	b, err := sharedBackend()
	if reason, skip := skipReason(err, os.Getenv(SkipEnv)); skip {
		tb.Skip(reason)
	}
	require.NoError(tb, err, "start the embedded backend")
	return b
}

// skipReason says whether a backend that failed to start with err is a
// reason to skip, given the value of SkipEnv, and why in one line.
func skipReason(err error, env string) (string, bool) {
	if env != "1" || !errors.Is(err, backend.ErrUnavailable) {
		return "", false
	}
	line, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Sprintf("%s=1 and no Postgres: %s", SkipEnv, line), true
}

// sharedBackend starts the backend on first use.
func sharedBackend() (*embedded.Backend, error) {
	shared.once.Do(func() {
		b, err := embedded.New(context.Background(), embedded.Config{})
		shared.mu.Lock()
		defer shared.mu.Unlock()
		if shared.err == nil { // Main may have closed it meanwhile
			shared.b, shared.err = b, err
		} else if err == nil {
			_ = b.Close()
		}
	})
	shared.mu.Lock()
	defer shared.mu.Unlock()
	return shared.b, shared.err
}

// closeShared closes the backend, if it was started, and keeps any
// later Run from starting another.
func closeShared() error {
	shared.mu.Lock()
	b := shared.b
	shared.b, shared.err = nil, embedded.ErrClosed
	shared.mu.Unlock()
	if b == nil {
		return nil
	}
	return b.Close()
}

// Main runs the tests, closes the backend, checks that no goroutine
// outlived the tests (goleak, with opts) and exits. On SIGINT or SIGTERM
// it closes the backend, so that no data directory is left, and exits at
// once.
func Main(m *testing.M, opts ...goleak.Option) {
	os.Exit(run(m, opts))
}

func run(m *testing.M, opts []goleak.Option) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case sig := <-sigs:
			err := closeShared()
			fmt.Fprintf(os.Stderr, "testenv: %v: closed the embedded backend (%v)\n",
				sig, err)
			os.Exit(1)
		case <-done:
		}
	})

	code := m.Run()
	close(done)
	wg.Wait()
	signal.Stop(sigs)
	if err := closeShared(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		code = max(code, 1)
	}
	if err := goleak.Find(opts...); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: goroutines outlived the tests: %v\n", err)
		code = max(code, 1)
	}
	return code
}
