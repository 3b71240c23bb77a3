package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/ingest"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/queue"
	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/sim/backend"
)

const (
	secret      = "synthetic-app-secret-0001"
	verifyToken = "synthetic-verify-token"
	phoneID     = "200000000000001"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is an ingest handler on a fresh database with one inbox, served on
// loopback.
type env struct {
	run   *backend.Run
	queue *queue.Queue
	h     *ingest.Handler
	url   string
	inbox store.Inbox
}

// newEnv starts a handler configured by cfg on a fresh database; the
// database, queue and secret are filled in when unset.
func newEnv(tb testing.TB, cfg ingest.Config) *env {
	tb.Helper()
	run := testenv.Run(tb)
	q, err := queue.New(queue.Config{DB: run.DB, Queue: "ingest-test"})
	require.NoError(tb, err)
	in, err := store.CreateInbox(tb.Context(), run.DB, "support", phoneID)
	require.NoError(tb, err)

	if cfg.AppSecret == "" {
		cfg.AppSecret = secret
	}
	cfg.DB, cfg.Queue = run.DB, q
	h, err := ingest.New(cfg)
	require.NoError(tb, err)
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &env{run: run, queue: q, h: h, url: srv.URL, inbox: in}
}

// payload reads a body from testdata.
func payload(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(tb, err)
	return b
}

// post sends body with the signature header sig (none when empty) and
// returns the status.
func (e *env) post(tb testing.TB, body []byte, sig string) int {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, e.url,
		bytes.NewReader(body))
	require.NoError(tb, err)
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(meta.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	require.NoError(tb, resp.Body.Close())
	return resp.StatusCode
}

// postSigned sends body signed with the test secret.
func (e *env) postSigned(tb testing.TB, body []byte) int {
	tb.Helper()
	return e.post(tb, body, meta.Sign(secret, body))
}

// jobs decodes every job of the queue.
func (e *env) jobs(tb testing.TB) []flow.Job {
	tb.Helper()
	listed, err := e.queue.List(tb.Context())
	require.NoError(tb, err)
	out := make([]flow.Job, len(listed))
	for i, l := range listed {
		require.Equal(tb, ingest.JobKind, l.Kind)
		require.NoError(tb, json.Unmarshal(l.Payload, &out[i]))
	}
	return out
}

// requireNothingStored requires no job in any queue, no message row and
// no outbound status change.
func (e *env) requireNothingStored(tb testing.TB) {
	tb.Helper()
	var jobs, rows, touched int
	ctx := context.WithoutCancel(tb.Context())
	require.NoError(tb, e.run.DB.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM jobs), (SELECT count(*) FROM messages),
		(SELECT count(*) FROM outbound_messages WHERE status <> 'sent')`).
		Scan(&jobs, &rows, &touched))
	require.Zero(tb, jobs, "jobs")
	require.Zero(tb, rows, "message rows")
	require.Zero(tb, touched, "outbound messages updated")
}

// messageIDs lists the provider message ids of jobs, in order.
func messageIDs(jobs []flow.Job) []string {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.Message.ID
	}
	return ids
}
