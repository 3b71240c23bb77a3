package embedded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// orphanAge is how old an instance still being created, without an
// owner, must be before a sweep takes it for the leftover of a crash.
const orphanAge = time.Hour

// sweep removes the instances under root whose owner process is gone,
// killing any postmaster still running in them. Kept instances, and
// those whose owner is alive or cannot be told, are left alone.
func sweep(ctx context.Context, root string, log *slog.Logger) {
	entries, err := os.ReadDir(root)
	if err != nil {
		log.Warn("sweep runtime dir", "dir", root, "err", err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, instancePrefix) &&
			!strings.HasPrefix(name, newInstancePrefix) {
			continue
		}
		in := instance{dir: filepath.Join(root, name)}
		swept, err := sweepInstance(ctx, in)
		if err != nil {
			log.Warn("sweep data dir", "dir", in.dir, "err", err)
		}
		if swept {
			log.Info("swept stale data dir", "dir", in.dir)
		}
	}
}

// sweepInstance removes in if its owner is gone, and says whether it did.
func sweepInstance(ctx context.Context, in instance) (bool, error) {
	if in.kept() {
		return false, nil
	}
	o, err := readOwner(in.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return sweepOrphan(in)
	}
	if err != nil {
		return false, err
	}
	alive, err := o.alive()
	if alive || err != nil {
		return false, err
	}
	if err := killPostmaster(ctx, in, o); err != nil {
		return false, err
	}
	return true, in.remove()
}

// sweepOrphan removes an instance that never got its owner recorded, once
// it is old enough that its creator cannot still be writing it.
func sweepOrphan(in instance) (bool, error) {
	info, err := os.Lstat(in.dir)
	if err != nil {
		return false, err
	}
	if time.Since(info.ModTime()) < orphanAge {
		return false, nil
	}
	return true, in.remove()
}

// killPostmaster kills the server still running in in's data directory,
// if any. The pid in postmaster.pid counts only if that process works in
// this very data directory: pids are reused.
func killPostmaster(ctx context.Context, in instance, o owner) error {
	boot, err := bootID()
	if err != nil || boot != o.BootID {
		return err // no process of another boot still runs
	}
	pid, err := postmasterPID(in.dataDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !worksIn(pid, in.dataDir()) {
		return nil
	}
	// The server leads its own process group: kill its backends too.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if err := waitGone(ctx, pid, 5*time.Second); err != nil {
		return fmt.Errorf("kill stale postmaster: %w", err)
	}
	return nil
}

// postmasterPID reads the first line of dataDir/postmaster.pid.
func postmasterPID(dataDir string) (int, error) {
	f, err := os.Open(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("read postmaster.pid: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if err != nil {
		return 0, fmt.Errorf("parse postmaster.pid: %w", err)
	}
	return pid, nil
}

// worksIn reports whether process pid's working directory is dir, as a
// postmaster's is its data directory.
func worksIn(pid int, dir string) bool {
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return false
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return cwd == dir
}

// waitGone waits until process pid has exited, for at most limit.
func waitGone(ctx context.Context, pid int, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !processGone(pid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for process %d to exit: %w", pid, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}
