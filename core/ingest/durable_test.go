package ingest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/ingest"
	"github.com/dedupsim/dedupsim/core/queue"
	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/internal/testenv"
)

// childDSN, set in a re-executed test binary, makes it the ingest process
// of TestAnAcceptedDeliverySurvivesTheDeathOfTheProcessThatAcceptedIt.
const childDSN = "DEDUPSIM_INGEST_CHILD_DSN"

// childQueue names the queue both processes use.
const childQueue = "durable"

func TestAnAcceptedDeliverySurvivesTheDeathOfTheProcessThatAcceptedIt(t *testing.T) {
	run := testenv.Run(t)
	_, err := store.CreateInbox(t.Context(), run.DB, "support", phoneID)
	require.NoError(t, err)
	child, url := startChild(t, run.DSN)

	// The child answers 200 only after its commit; no worker runs anywhere.
	e := &env{url: url}
	require.Equal(t, http.StatusOK, e.postSigned(t, payload(t, "01-single-text.json")))
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	err = child.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "child ended with %v", err)
	require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())

	var (
		kind, state string
		payloadJSON []byte
	)
	require.NoError(t, run.DB.QueryRow(t.Context(), `SELECT kind, state, payload
		FROM jobs WHERE queue = $1`, childQueue).Scan(&kind, &state, &payloadJSON))
	require.Equal(t, ingest.JobKind, kind)
	require.Equal(t, "pending", state)
	var job flow.Job
	require.NoError(t, json.Unmarshal(payloadJSON, &job))
	require.Equal(t, "wamid.HBgLMTU1NTAwMDAwMDIVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwMQA=",
		job.Message.ID)
	require.Equal(t, phoneID, job.Inbox.PhoneNumberID)
}

// startChild re-executes the test binary as an ingest process on dsn and
// returns it with the URL it serves.
func startChild(tb testing.TB, dsn string) (*exec.Cmd, string) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIngestChildProcess$",
		"-test.count=1")
	cmd.Env = append(os.Environ(), childDSN+"="+dsn)
	cmd.Stderr = os.Stderr
	// The child dies with the test binary, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				lines <- url
			}
		}
		close(lines)
	}()
	select {
	case url, ok := <-lines:
		require.True(tb, ok, "the child ended before it listened")
		return cmd, url
	case <-time.After(30 * time.Second):
		require.FailNow(tb, "the child did not listen within 30s")
	}
	return nil, ""
}

// TestIngestChildProcess is the ingest process of the test above: it
// serves the handler on loopback until it is killed.
func TestIngestChildProcess(t *testing.T) {
	dsn := os.Getenv(childDSN)
	if dsn == "" {
		t.Skip("runs only as the child of " +
			"TestAnAcceptedDeliverySurvivesTheDeathOfTheProcessThatAcceptedIt")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	q, err := queue.New(queue.Config{DB: pool, Queue: childQueue})
	require.NoError(t, err)
	h, err := ingest.New(ingest.Config{AppSecret: secret, DB: pool, Queue: q})
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("listening http://%s\n", ln.Addr())
	go func() { _ = srv.Serve(ln) }()
	<-ctx.Done() // the parent kills the process long before
	require.NoError(t, srv.Close())
}
