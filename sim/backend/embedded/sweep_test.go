package embedded

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSweepRemovesOnlyDirsOfDeadOwners(t *testing.T) {
	cfg := testConfig(t)
	me, err := currentOwner()
	require.NoError(t, err)
	reused := me // this pid, but a process that started at another time
	reused.StartTime--
	rebooted := me // this pid and start time, but before a reboot
	rebooted.BootID = "00000000-0000-0000-0000-000000000000"

	dead := fakeInstance(t, cfg.RuntimeDir, "srv-dead", reused)
	stale := fakeInstance(t, cfg.RuntimeDir, "srv-rebooted", rebooted)
	live := fakeInstance(t, cfg.RuntimeDir, "srv-live", me)
	kept := fakeInstance(t, cfg.RuntimeDir, "srv-kept", reused)
	require.NoError(t, instance{dir: kept}.markKept())
	creating := filepath.Join(cfg.RuntimeDir, newInstancePrefix+"1")
	require.NoError(t, os.Mkdir(creating, 0o711))
	orphan := filepath.Join(cfg.RuntimeDir, newInstancePrefix+"2")
	require.NoError(t, os.Mkdir(orphan, 0o711))
	old := time.Now().Add(-2 * orphanAge)
	require.NoError(t, os.Chtimes(orphan, old, old))

	sweep(t.Context(), cfg.RuntimeDir, cfg.Logger)
	require.NoDirExists(t, dead)
	require.NoDirExists(t, stale)
	require.NoDirExists(t, orphan)
	require.DirExists(t, live)
	require.DirExists(t, kept)
	require.DirExists(t, creating, "an instance being created has no owner yet")
}

func TestSweepKillsTheServerOfADeadOwner(t *testing.T) {
	cfg := testConfig(t)
	b, err := New(t.Context(), cfg)
	require.NoError(t, err)
	pid := b.srv.proc.pid()

	// Pretend the backend's process died without stopping its server.
	gone, err := currentOwner()
	require.NoError(t, err)
	gone.StartTime--
	require.NoError(t, gone.write(b.in.dir))

	sweep(t.Context(), cfg.RuntimeDir, cfg.Logger)
	require.True(t, processGone(pid))
	require.NoDirExists(t, b.in.dir)
	require.ErrorIs(t, b.Close(), ErrServerExited)
}

// fakeInstance makes an instance directory with a data directory and the
// given owner, and returns its path.
func fakeInstance(tb testing.TB, root, name string, o owner) string {
	tb.Helper()
	dir := filepath.Join(root, name)
	require.NoError(tb, os.MkdirAll(filepath.Join(dir, "data"), 0o700))
	require.NoError(tb, o.write(dir))
	return dir
}
