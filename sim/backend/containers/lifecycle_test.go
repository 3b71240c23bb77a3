package containers_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/internal/cli"
	"github.com/dedupsim/dedupsim/sim/backend/containers"
)

// BinEnv names a dedupsim binary for these tests to run; unset, they
// build one.
const BinEnv = "DEDUPSIM_BIN"

var built struct {
	once sync.Once
	path string
	err  error
}

// dedupsimBin returns the command line's binary: $DEDUPSIM_BIN, or one
// built from this module on first use.
func dedupsimBin(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(BinEnv); p != "" {
		return p
	}
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "dedupsim-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "dedupsim")
		cmd := exec.Command("go", "build", "-o", built.path,
			"github.com/dedupsim/dedupsim/cmd/dedupsim")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = errors.New(string(out))
		}
	})
	require.NoError(tb, built.err, "build dedupsim")
	return built.path
}

// removeBin removes the binary dedupsimBin built, if it built one.
func removeBin() {
	if built.path != "" {
		_ = os.RemoveAll(filepath.Dir(built.path))
	}
}

// child is a dedupsim run on the containers backend, in a process of its
// own, that runs until it is signalled.
type child struct {
	cmd      *exec.Cmd
	started  chan string // the "containers backend started" log line
	done     chan struct{}
	exitCode int
}

// startChild starts a long run on the containers backend and waits until
// its containers are up.
func startChild(tb testing.TB) *child {
	tb.Helper()
	// A scenario that mostly waits (on a slow media server), so that the
	// child keeps running without taking the CPU from the test.
	cmd := exec.Command(dedupsimBin(tb), "run", "--backend", "containers",
		"--runs", "1000", "c04-slow-media")
	stderr, err := cmd.StderrPipe()
	require.NoError(tb, err)
	require.NoError(tb, cmd.Start())
	c := &child{cmd: cmd, started: make(chan string, 1), done: make(chan struct{})}
	go c.watch(stderr)
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})

	select {
	case line := <-c.started:
		tb.Logf("child %d: %s", cmd.Process.Pid, line)
	case <-c.done:
		require.FailNow(tb, "the child exited before its containers started")
	case <-time.After(3 * time.Minute):
		require.FailNow(tb, "the child's containers did not start in time")
	}
	return c
}

// watch reads the child's log until it closes, passes on the line that
// says its containers started, and reaps the child.
func (c *child) watch(stderr interface{ Read([]byte) (int, error) }) {
	defer close(c.done)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `msg="containers backend started"`) {
			c.started <- sc.Text()
		}
	}
	_ = c.cmd.Wait()
	c.exitCode = c.cmd.ProcessState.ExitCode()
}

// pid is the child's process id, as its containers' labels carry it.
func (c *child) pid() string { return strconv.Itoa(c.cmd.Process.Pid) }

// stop sends sig and waits for the child to exit.
func (c *child) stop(tb testing.TB, sig syscall.Signal) {
	tb.Helper()
	require.NoError(tb, c.cmd.Process.Signal(sig))
	select {
	case <-c.done:
	case <-time.After(time.Minute):
		require.FailNow(tb, "the child did not exit", "signal %v", sig)
	}
}

// waitMidRun waits until the child's Postgres holds a run's schema: the
// child is in the middle of a run.
func waitMidRun(tb testing.TB, c *child) {
	tb.Helper()
	ids := dockerPS(tb, containers.LabelPID+"="+c.pid(), containers.LabelRole+"=postgres")
	require.Len(tb, ids, 1, "the child's postgres container")
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		out, err := exec.Command("docker", "exec", ids[0], "psql", "-U", "dedupsim",
			"-d", "dedupsim", "-Atc",
			`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'run\_%'`).Output()
		if err == nil && strings.TrimSpace(string(out)) != "0" {
			return
		}
		select {
		case <-c.done:
			require.FailNow(tb, "the child exited before a run began")
		case <-time.After(50 * time.Millisecond):
		}
	}
	require.FailNow(tb, "no run began in the child's postgres")
}

func TestCtrlCMidRunRemovesTheContainers(t *testing.T) {
	newBackend(t) // skips where containers cannot run
	c := startChild(t)
	require.Len(t, dockerPS(t, containers.LabelPID+"="+c.pid()), 2)
	waitMidRun(t, c)

	c.stop(t, syscall.SIGINT)
	require.Equal(t, cli.ExitInterrupted, c.exitCode)
	require.Empty(t, dockerPS(t, containers.LabelPID+"="+c.pid()),
		"containers left after Ctrl-C")
}

func TestAfterKill9TheNextStartRemovesOnlyDeadOwnersContainers(t *testing.T) {
	mine := newBackend(t)
	killed, live := startChild(t), startChild(t)
	waitMidRun(t, killed)

	killed.stop(t, syscall.SIGKILL)
	left := dockerPS(t, containers.LabelPID+"="+killed.pid())
	t.Logf("after kill -9 of %s, its containers: %v", killed.pid(), left)
	if len(left) == 0 {
		t.Log("another process's start swept them already")
	} else {
		require.Len(t, left, 2, "kill -9 leaves the containers to the sweep")
	}

	newBackend(t) // the next start: it sweeps
	require.Empty(t, dockerPS(t, containers.LabelPID+"="+killed.pid()),
		"a dead owner's containers survived the sweep")
	require.Len(t, dockerPS(t, containers.LabelPID+"="+live.pid()), 2,
		"the sweep removed a live owner's containers")
	require.Len(t, dockerPS(t, containers.LabelBackend+"="+mine.ID()), 2,
		"the sweep removed this process's containers")

	live.stop(t, syscall.SIGINT)
	require.Empty(t, dockerPS(t, containers.LabelPID+"="+live.pid()))
}
