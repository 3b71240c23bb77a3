package conformance_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/conformance"
	"github.com/dedupsim/dedupsim/sim/backend/containers"
	"github.com/dedupsim/dedupsim/sim/backend/external"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// names are the backends, in the order the suite runs them.
var names = []string{"embedded", "external", "containers"}

// open starts backend name for one test, closed when it ends. A backend
// that cannot start skips or fails the test as conformance.Unavailable
// says; the embedded one is the test binary's shared backend, with
// testenv's rule.
func open(tb testing.TB, name string) backend.Backend {
	tb.Helper()
	var b backend.Backend
	var err error
	switch name {
	case "embedded":
		return testenv.Backend(tb)
	case "external":
		b, err = external.New(conformance.Context(tb), external.Config{
			PostgresURL: os.Getenv("DATABASE_URL"), RedisURL: os.Getenv("REDIS_URL")})
	case "containers":
		b, err = containers.New(conformance.Context(tb), containers.Config{})
	default:
		tb.Fatalf("no backend %q", name)
	}
	if err != nil {
		conformance.Unavailable(tb, name, err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	return b
}

// shipped keeps each backend's shipped-scenario results from the suite,
// for the differential test to reuse rather than run them again.
var shipped struct {
	mu      sync.Mutex
	results map[string][]sim.ScenarioResult
}

func TestEveryBackendPassesTheConformanceSuite(t *testing.T) {
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			started := time.Now()
			defer report(t, name, started)
			b := open(t, name)
			var foreign *conformance.Foreign
			if name == "external" {
				foreign = conformance.SeedForeign(t, os.Getenv("DATABASE_URL"),
					os.Getenv("REDIS_URL"))
			}
			res := conformance.Run(t, b)
			if foreign != nil {
				foreign.Check(t)
			}
			if !t.Failed() {
				shipped.mu.Lock()
				defer shipped.mu.Unlock()
				if shipped.results == nil {
					shipped.results = map[string][]sim.ScenarioResult{}
				}
				shipped.results[name] = res
			}
		})
	}
}

// ReportEnv names a file the suite appends one line per backend to: its
// name, outcome and suite time. go test hides a passing package's output
// unless run with -v, so make test prints that file after the tests.
const ReportEnv = "DEDUPSIM_SUITE_REPORT"

// report writes the backend's line on stderr and to $DEDUPSIM_SUITE_REPORT.
func report(t *testing.T, name string, started time.Time) {
	outcome := "passed"
	switch {
	case t.Failed():
		outcome = "FAILED"
	case t.Skipped():
		outcome = "skipped"
	}
	line := fmt.Sprintf("conformance: backend %-10s %-7s suite time %s\n",
		name, outcome, time.Since(started).Round(time.Millisecond))
	fmt.Fprint(os.Stderr, line)
	path := os.Getenv(ReportEnv)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		_, err = f.WriteString(line)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		t.Errorf("write %s: %v", path, err)
	}
}
