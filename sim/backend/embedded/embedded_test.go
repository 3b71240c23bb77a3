package embedded

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend"
)

func TestRunsAreIsolated(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, testConfig(t))
	require.Equal(t, "embedded", b.Name())

	// Start both runs at once: CREATE DATABASE from one template, twice.
	var runs [2]*backend.Run
	var errs [2]error
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { runs[i], errs[i] = b.NewRun(ctx, backend.RunOptions{}) })
	}
	wg.Wait()
	for i, r := range runs {
		require.NoError(t, errs[i])
		t.Cleanup(func() { require.NoError(t, r.Close(context.Background())) })
	}
	require.NotEqual(t, runs[0].ID, runs[1].ID)
	require.NotEqual(t, runs[0].KeyPrefix, runs[1].KeyPrefix)

	for _, r := range runs {
		_, err := r.DB.Exec(ctx, "INSERT INTO accounts (name) VALUES ($1)", r.ID)
		require.NoError(t, err)
		require.NoError(t, r.Redis.Set(ctx, r.KeyPrefix+"claim", r.ID, 0).Err())
	}
	for _, r := range runs {
		rows, err := r.DB.Query(ctx, "SELECT name FROM accounts")
		require.NoError(t, err)
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Equal(t, []string{r.ID}, names)

		keys, err := r.Redis.Keys(ctx, r.KeyPrefix+"*").Result()
		require.NoError(t, err)
		require.Equal(t, []string{r.KeyPrefix + "claim"}, keys)
	}
}

func TestRunCloseDropsOnlyItsOwnData(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, testConfig(t))
	gone, stays := newRun(t, b, backend.RunOptions{}), newRun(t, b, backend.RunOptions{})
	for _, r := range []*backend.Run{gone, stays} {
		for _, k := range []string{"a", "b", "c"} {
			require.NoError(t, r.Redis.Set(ctx, r.KeyPrefix+k, 1, 0).Err())
		}
	}
	require.NoError(t, gone.Close(ctx))

	n, err := stays.Redis.Exists(ctx, gone.KeyPrefix+"a", gone.KeyPrefix+"b").Result()
	require.NoError(t, err)
	require.Zero(t, n)
	keys, err := stays.Redis.Keys(ctx, stays.KeyPrefix+"*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 3)

	var dbs int
	err = stays.DB.QueryRow(ctx, "SELECT count(*) FROM pg_database "+
		"WHERE datname = $1", dbName(gone.ID)).Scan(&dbs)
	require.NoError(t, err)
	require.Zero(t, dbs)
}

func TestFastForwardExpiresKeys(t *testing.T) {
	ctx := t.Context()
	r := newRun(t, newBackend(t, testConfig(t)), backend.RunOptions{})
	key := r.KeyPrefix + "claim"
	require.NoError(t, r.Redis.Set(ctx, key, 1, time.Hour).Err())
	require.NoError(t, r.FastForward(ctx, time.Hour))
	n, err := r.Redis.Exists(ctx, key).Result()
	require.NoError(t, err)
	require.Zero(t, n)
	require.Error(t, r.FastForward(ctx, -time.Second))
}

func TestMaxConnsBoundsThePool(t *testing.T) {
	b := newBackend(t, testConfig(t))
	r := newRun(t, b, backend.RunOptions{MaxConns: 5})
	require.EqualValues(t, 5, r.DB.Config().MaxConns)
	r = newRun(t, b, backend.RunOptions{})
	require.EqualValues(t, defaultMaxConns, r.DB.Config().MaxConns)
	_, err := b.NewRun(t.Context(), backend.RunOptions{MaxConns: -1})
	require.Error(t, err)
}

func TestCloseTwiceIsFine(t *testing.T) {
	cfg := testConfig(t)
	b, err := New(t.Context(), cfg)
	require.NoError(t, err)
	r, err := b.NewRun(t.Context(), backend.RunOptions{})
	require.NoError(t, err)

	require.NoError(t, r.Close(t.Context()))
	require.NoError(t, r.Close(t.Context()))
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	require.Empty(t, instances(t, cfg.RuntimeDir))

	_, err = b.NewRun(t.Context(), backend.RunOptions{})
	require.ErrorIs(t, err, ErrClosed)
}

func TestCloseClosesRunsLeftOpen(t *testing.T) {
	b, err := New(t.Context(), testConfig(t))
	require.NoError(t, err)
	r, err := b.NewRun(t.Context(), backend.RunOptions{})
	require.NoError(t, err)
	require.NoError(t, b.Close())
	require.NoError(t, r.Close(t.Context())) // already closed by b
}

func TestKeptRunCanBeReopened(t *testing.T) {
	ctx := t.Context()
	cfg := testConfig(t)
	b, err := New(ctx, cfg)
	require.NoError(t, err)
	r, err := b.NewRun(ctx, backend.RunOptions{Keep: true})
	require.NoError(t, err)
	_, err = r.DB.Exec(ctx, "INSERT INTO accounts (name) VALUES ('kept')")
	require.NoError(t, err)
	require.Contains(t, r.KeepHint, b.in.dataDir())
	require.Contains(t, r.KeepHint, r.DSN)
	require.NoError(t, r.Close(ctx))
	require.NoError(t, b.Close())
	require.DirExists(t, b.in.dataDir())

	// A new backend's sweep leaves the kept directory alone.
	newBackend(t, Config{Logger: cfg.Logger, RuntimeDir: cfg.RuntimeDir})
	require.DirExists(t, b.in.dataDir())

	// The hint's command starts the kept server again, with the data.
	start, _, ok := strings.Cut(r.KeepHint, "; then connect to ")
	require.True(t, ok, r.KeepHint)
	startKept(t, strings.TrimPrefix(start, "start the kept server: "), b.in.dataDir())
	var name string
	require.Eventually(t, func() bool {
		conn, err := pgx.Connect(ctx, r.DSN)
		if err != nil {
			return false
		}
		defer conn.Close(ctx)
		return conn.QueryRow(ctx, "SELECT name FROM accounts").Scan(&name) == nil
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, "kept", name)
}

// startKept runs a keep hint's shell command and, when the test ends,
// kills the server it started on dataDir.
func startKept(tb testing.TB, command, dataDir string) {
	tb.Helper()
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() {
		// su puts the server in a session of its own: kill it by its pid.
		if pid, err := postmasterPID(dataDir); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			require.NoError(tb, waitGone(context.Background(), pid, 5*time.Second))
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
}
