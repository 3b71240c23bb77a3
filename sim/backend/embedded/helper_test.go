package embedded

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend"
)

// A helper process is this test binary started again with helperModeEnv
// set. It starts a backend in helperDirEnv, prints "ready <postmaster
// pid> <data dir>", and then, by mode:
//
//	exit   closes everything and exits;
//	sigint waits for SIGINT, closes everything and exits;
//	hang   waits until its standard input closes (or it is killed).
const (
	helperModeEnv = "DEDUPSIM_EMBEDDED_HELPER"
	helperDirEnv  = "DEDUPSIM_EMBEDDED_HELPER_DIR"
)

// helperMain is the whole life of a helper process; it returns the exit
// code.
func helperMain(mode string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	b, err := New(ctx, Config{RuntimeDir: os.Getenv(helperDirEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	r, err := b.NewRun(ctx, backend.RunOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Printf("ready %d %s\n", b.srv.proc.pid(), b.in.dataDir())

	stdinClosed := make(chan struct{})
	go func() { // ends with the process
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	switch mode {
	case "sigint":
		select {
		case <-ctx.Done():
		case <-stdinClosed:
		}
	case "hang":
		<-stdinClosed
	}
	if err := r.Close(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := b.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// helper is a running helper process, seen from the test.
type helper struct {
	cmd     *exec.Cmd
	exited  chan error // receives Wait's result
	pgPID   int
	dataDir string
}

// startHelper starts a helper process in mode and waits until it is
// ready. The process is killed and reaped when the test ends.
func startHelper(tb testing.TB, mode, dir string) *helper {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperModeEnv+"="+mode, helperDirEnv+"="+dir)
	cmd.Stderr = tb.Output()
	stdout, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	_, err = cmd.StdinPipe() // held open until Wait: "hang" waits on it
	require.NoError(tb, err)
	require.NoError(tb, cmd.Start())

	h := &helper{cmd: cmd, exited: make(chan error, 1)}
	line := readLine(tb, stdout, time.Minute)
	go func() { h.exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-h.exited
	})

	fields := strings.Fields(line)
	require.Len(tb, fields, 3, "helper said %q", line)
	require.Equal(tb, "ready", fields[0])
	h.pgPID, err = strconv.Atoi(fields[1])
	require.NoError(tb, err)
	h.dataDir = fields[2]
	return h
}

// readLine reads one line from r, failing the test after limit.
func readLine(tb testing.TB, r io.Reader, limit time.Duration) string {
	tb.Helper()
	lines := make(chan string, 1)
	go func() { // ends when the helper exits and its pipe closes
		line, _ := bufio.NewReader(r).ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		return strings.TrimSpace(line)
	case <-time.After(limit):
		require.FailNow(tb, "helper not ready", "no line within %s", limit)
		return ""
	}
}

// wait waits for the helper to exit, for at most limit, and returns how.
func (h *helper) wait(tb testing.TB, limit time.Duration) error {
	tb.Helper()
	select {
	case err := <-h.exited:
		h.exited <- err // for the cleanup
		return err
	case <-time.After(limit):
		require.FailNow(tb, "helper still running", "after %s", limit)
		return nil
	}
}
