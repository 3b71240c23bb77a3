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
