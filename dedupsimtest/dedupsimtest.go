// Package dedupsimtest runs dedupsim scenario files from a Go test suite,
// so that a project's own dedup guard is held to its scenarios by
// "go test":
//
//	func TestMain(m *testing.M) { dedupsimtest.Main(m) }
//
//	func TestDoubleDeliveryIsStoredOnce(t *testing.T) {
//		dedupsimtest.Run(t, "testdata/double-delivery.yaml")
//	}
//
// Scenarios run on the embedded backend: miniredis in the test process and
// a throwaway PostgreSQL server started from the locally installed server
// binaries (scripts/ensure-postgres.sh in the dedupsim repository installs
// them). Where they are missing Run fails the test and says how to install
// them; with DEDUPSIM_SKIP_PG=1 it skips the test instead.
//
// # One backend per test binary
//
// With Main in TestMain, the first Run starts one backend, every later
// Run in the binary shares it (each run still gets its own database and
// Redis key prefix), and Main closes it after the last test. Without Main
// there is no moment after the last test to close a shared backend in, so
// each test that calls Run starts its own and closes it in the test's
// cleanup: just as correct, and a fraction of a second slower per test.
//
// A failing strategy fails the test with t.Errorf: what it expected, what
// the runs saw, and the command line that replays it.
package dedupsimtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/dedupsim/dedupsim/reports"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/embedded"
)

// SkipEnv names the environment variable that, set to "1", makes Run skip
// the test where PostgreSQL is not installed, rather than fail it.
const SkipEnv = "DEDUPSIM_SKIP_PG"

// Command is how a failure message runs dedupsim: from any folder of a
// module that requires dedupsim.
const Command = "go run github.com/dedupsim/dedupsim/cmd/dedupsim"

// ErrUnknownStrategy is wrapped by the error of an Option naming a
// strategy the scenario does not have.
var ErrUnknownStrategy = errors.New("unknown strategy")

// Option tunes Run.
type Option func(*config)

type config struct {
	runs       int
	strategies []string
	backend    backend.Backend
}

// WithRuns runs each strategy n times instead of the scenario's runs.
func WithRuns(n int) Option { return func(c *config) { c.runs = n } }

// WithStrategies runs only the named strategies of the scenario, each with
// all of its configurations. Naming one the scenario lacks fails the test.
func WithStrategies(names ...string) Option {
	return func(c *config) { c.strategies = append(c.strategies, names...) }
}

// WithBackend runs on b, which the caller starts and closes, instead of
// the shared embedded backend.
func WithBackend(b backend.Backend) Option { return func(c *config) { c.backend = b } }

// Run runs the scenario file at path, every strategy its number of runs,
// and returns the result. Each strategy that did not meet its
// expectation, or has a run without a verdict, fails t with t.Errorf. A
// scenario that cannot be read or run stops t with t.Fatalf.
func Run(t testing.TB, path string, opts ...Option) sim.ScenarioResult {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	sc, err := load(path, cfg.strategies)
	if err != nil {
		t.Fatalf("dedupsim: %v", err)
		return sim.ScenarioResult{}
	}
	b := cfg.backend
	if b == nil {
		if b, err = backendFor(t); err != nil {
			if errors.Is(err, backend.ErrUnavailable) && os.Getenv(SkipEnv) == "1" {
				line, _, _ := strings.Cut(err.Error(), "\n")
				t.Skipf("dedupsim: %s=1 and no PostgreSQL: %s", SkipEnv, line)
			}
			t.Fatalf("dedupsim: %v", err)
			return sim.ScenarioResult{}
		}
	}
	res, err := sim.RunScenario(t.Context(), b, sc, sim.Options{Runs: cfg.runs})
	if err != nil {
		t.Fatalf("dedupsim: run scenario %s: %v", sc.Path, err)
		return res
	}
	judge(t, res)
	return res
}

// load reads the scenario at path, made absolute so that the replay
// command works from anywhere, and keeps only the named strategies.
func load(path string, strategies []string) (*scenarios.Scenario, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open scenario %s: %w", path, err)
	}
	sc, err := scenarios.LoadFile(abs)
	if err != nil {
		return nil, err
	}
	for _, name := range strategies {
		if !slices.Contains(sc.Strategies, name) {
			return nil, fmt.Errorf("scenario %s: %w %q (it has: %s)", sc.Path,
				ErrUnknownStrategy, name, strings.Join(sc.Strategies, ", "))
		}
	}
	if len(strategies) > 0 {
		sc.Strategies = slices.DeleteFunc(sc.Strategies, func(s string) bool {
			return !slices.Contains(strategies, s)
		})
	}
	return sc, nil
}

// judge fails t once per strategy that did not pass, and logs the rest.
func judge(t testing.TB, res sim.ScenarioResult) {
	t.Helper()
	failed := map[string]bool{}
	for _, f := range reports.Failures([]sim.ScenarioResult{res}) {
		failed[f.Strategy] = true
		t.Errorf("%s", failureMessage(f))
	}
	var held []string
	for _, sr := range res.Strategies {
		if !failed[sr.Strategy] {
			held = append(held, sr.Strategy)
		}
	}
	if len(held) > 0 {
		t.Logf("dedupsim: scenario %s: %s met %s", res.Scenario, strings.Join(held, ", "),
			plural(len(held), "its expectation", "their expectations"))
	}
}

// failureMessage says which strategy missed, how, and how to replay it.
func failureMessage(f reports.Failure) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dedupsim: scenario %s, strategy %s did not meet its expectation:\n",
		f.Scenario, f.Strategy)
	for _, p := range f.Problems {
		fmt.Fprintf(&b, "    %s\n", p)
	}
	replay := strings.TrimPrefix(f.Replay, "dedupsim ")
	fmt.Fprintf(&b, "  replay: %s %s", Command, replay)
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// shared is the backend Main lets every Run of the binary use.
var shared struct {
	mu     sync.Mutex
	active bool // Main is running the tests
	b      *embedded.Backend
	err    error // why the backend did not start; kept so each Run says so
}

// backendFor returns the shared backend under Main, starting it on first
// use; otherwise a backend for t alone, closed when t ends.
func backendFor(t testing.TB) (backend.Backend, error) {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.active {
		b, err := embedded.New(t.Context(), embedded.Config{})
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() {
			if err := b.Close(); err != nil {
				t.Errorf("dedupsim: close backend: %v", err)
			}
		})
		return b, nil
	}
	if shared.b == nil && shared.err == nil {
		shared.b, shared.err = embedded.New(context.Background(), embedded.Config{})
	}
	if shared.err != nil {
		return nil, shared.err
	}
	return shared.b, nil
}

// Main runs the tests of m with one embedded backend shared by every Run,
// closes the backend, and exits with the tests' exit code. Interrupted
// (SIGINT, SIGTERM), it closes the backend and exits at once, so that no
// data directory is left behind. Call it from TestMain.
func Main(m *testing.M) {
	os.Exit(runMain(m))
}

// runMain is Main without the exit. A backend that does not close cleanly
// turns a passing exit code into a failing one.
func runMain(m interface{ Run() int }) int {
	shared.mu.Lock()
	shared.active = true
	shared.mu.Unlock()

	stop := closeOnSignal()
	code := m.Run()
	stop()
	if err := closeShared(); err != nil {
		fmt.Fprintf(os.Stderr, "dedupsimtest: close backend: %v\n", err)
		code = max(code, 1)
	}
	return code
}

// closeShared closes the shared backend, if it was started, and lets
// later Runs start their own.
func closeShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	b := shared.b
	shared.active, shared.b, shared.err = false, nil, nil
	if b == nil {
		return nil
	}
	return b.Close()
}

// closeOnSignal watches for SIGINT and SIGTERM while the tests run: on
// either it closes the shared backend and exits. The returned function
// stops watching and waits for the watcher to end.
func closeOnSignal() func() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case sig := <-sigs:
			err := closeShared()
			fmt.Fprintf(os.Stderr, "dedupsimtest: %v: closed the backend (%v)\n", sig, err)
			os.Exit(1)
		case <-done:
		}
	})
	return func() {
		close(done)
		wg.Wait()
		signal.Stop(sigs)
	}
}
