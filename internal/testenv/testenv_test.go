package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend"
)

func TestMain(m *testing.M) { Main(m) }

func TestRunGivesEachCallerItsOwnDatabaseAndKeys(t *testing.T) {
	ctx := t.Context()
	a, b := Run(t), Run(t)
	require.NotEqual(t, a.DSN, b.DSN)
	require.NotEqual(t, a.KeyPrefix, b.KeyPrefix)

	_, err := a.DB.Exec(ctx, "INSERT INTO accounts (name) VALUES ('a')")
	require.NoError(t, err)
	var n int
	require.NoError(t, b.DB.QueryRow(ctx, "SELECT count(*) FROM accounts").Scan(&n))
	require.Zero(t, n)
	require.NoError(t, a.Redis.Set(ctx, a.KeyPrefix+"k", 1, 0).Err())
}

func TestRunSharesOneBackendPerBinary(t *testing.T) {
	a, b := Run(t), Run(t)
	require.Equal(t, hostPort(t, a), hostPort(t, b))
	require.Same(t, Backend(t), Backend(t))
	require.Equal(t, "embedded", Backend(t).Name())
}

func TestSkipOnlyWhenAskedAndPostgresIsMissing(t *testing.T) {
	missing := fmt.Errorf("find server binaries: %w", backend.ErrUnavailable)
	broken := errors.New("initdb: exit status 1")

	reason, skip := skipReason(missing, "1")
	require.True(t, skip)
	require.Contains(t, reason, SkipEnv)
	_, skip = skipReason(missing, "")
	require.False(t, skip, "without the variable a missing Postgres fails")
	_, skip = skipReason(broken, "1")
	require.False(t, skip, "a broken Postgres fails even with the variable")
	_, skip = skipReason(nil, "1")
	require.False(t, skip)
}

// helperEnv makes TestInterruptHelper play the interrupted test binary.
const helperEnv = "DEDUPSIM_TESTENV_HELPER"

func TestInterruptClosesTheSharedBackend(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestInterruptHelper$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	lines := make(chan string, 1)
	go func() { // ends when the helper's output closes
		sc := bufio.NewScanner(stdout)
		sc.Scan()
		lines <- sc.Text()
		for sc.Scan() {
		}
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(time.Minute):
		require.FailNow(t, "the helper said nothing")
	}
	go func() { exited <- cmd.Wait() }()
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "ready "))
	require.NoError(t, err, line)
	dataDir := postmasterDir(t, pid)
	require.DirExists(t, dataDir)

	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		require.Error(t, err, "an interrupted test binary exits non-zero")
	case <-time.After(30 * time.Second):
		require.FailNow(t, "the helper ignored SIGINT")
	}
	require.NoDirExists(t, filepath.Dir(dataDir))
}

// TestInterruptHelper is the interrupted test binary of
// TestInterruptClosesTheSharedBackend: it takes a run, says so, and waits
// for the signal.
func TestInterruptHelper(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("run by TestInterruptClosesTheSharedBackend")
	}
	Run(t)
	fmt.Printf("ready %d\n", os.Getpid())
	select { // Main exits on the signal before this ends
	case <-t.Context().Done():
	case <-time.After(time.Minute):
		require.FailNow(t, "no signal came")
	}
}

// postmasterDir finds the data directory of the postmaster that process
// pid started: its child running postgres, whose working directory is it.
func postmasterDir(tb testing.TB, pid int) string {
	tb.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	require.NoError(tb, err)
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		require.NoError(tb, err)
		for _, child := range strings.Fields(string(b)) {
			exe, err := os.Readlink("/proc/" + child + "/exe")
			if err != nil || filepath.Base(exe) != "postgres" {
				continue
			}
			dir, err := os.Readlink("/proc/" + child + "/cwd")
			require.NoError(tb, err)
			return dir
		}
	}
	require.FailNow(tb, "no postmaster among the helper's children")
	return ""
}

// hostPort is where a run's database server listens.
func hostPort(tb testing.TB, r *backend.Run) string {
	tb.Helper()
	cfg := r.DB.Config().ConnConfig
	return fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)
}
