package embedded

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestServerDiesWithItsKilledOwner(t *testing.T) {
	dir := runtimeDir(t)
	h := startHelper(t, "hang", dir)
	require.False(t, processGone(h.pgPID))

	require.NoError(t, h.cmd.Process.Signal(syscall.SIGKILL))
	require.Error(t, h.wait(t, 10*time.Second))
	require.Eventually(t, func() bool { return processGone(h.pgPID) },
		time.Second, 5*time.Millisecond, "postmaster %d outlived its owner", h.pgPID)

	// Nothing could remove the data directory: the next start sweeps it.
	instanceDir := filepath.Dir(h.dataDir)
	require.DirExists(t, instanceDir)
	newBackend(t, Config{Logger: testConfig(t).Logger, RuntimeDir: dir})
	require.NoDirExists(t, instanceDir)
}

func TestNoDataDirLeftAfterOwnerExits(t *testing.T) {
	dir := runtimeDir(t)
	h := startHelper(t, "exit", dir)
	require.NoError(t, h.wait(t, 30*time.Second))
	require.True(t, processGone(h.pgPID))
	require.Empty(t, instances(t, dir))
}

func TestNoDataDirLeftAfterOwnerIsInterrupted(t *testing.T) {
	dir := runtimeDir(t)
	h := startHelper(t, "sigint", dir)
	require.NoError(t, h.cmd.Process.Signal(os.Interrupt))
	require.NoError(t, h.wait(t, 30*time.Second))
	require.True(t, processGone(h.pgPID))
	require.Empty(t, instances(t, dir))
}

func TestATakenPortIsRetriedWithAnother(t *testing.T) {
	cfg := testConfig(t)
	b := newBackend(t, cfg)
	in, err := createInstance(cfg.RuntimeDir, b.acct)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, in.remove()) })
	_, err = b.tmpl.copyTo(t.Context(), in.dataDir(), b.acct)
	require.NoError(t, err)

	// The first backend's server holds its port.
	_, err = launchServer(t.Context(), b.bins, b.acct, in, b.srv.port, time.Minute)
	require.ErrorIs(t, err, errPortTaken)

	srv, err := startServer(t.Context(), b.bins, b.acct, in, time.Minute)
	require.NoError(t, err)
	require.NotEqual(t, b.srv.port, srv.port)
	require.NoError(t, srv.stop(time.Minute))
}
