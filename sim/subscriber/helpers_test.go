package subscriber_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/sim/subscriber"
)

// clock is the fixed time that every test's receiver and dispatcher read.
var clock = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func now() time.Time { return clock }

// secret returns a deterministic endpoint secret made of the byte b.
func secret(b byte) string {
	return dispatch.NewSecret(bytes.NewReader(bytes.Repeat([]byte{b}, 32)))
}

// start starts a receiver on the fixed clock and closes it at cleanup.
func start(tb testing.TB, endpoints ...subscriber.Endpoint) *subscriber.Receiver {
	tb.Helper()
	r, err := subscriber.Start(context.Background(), subscriber.Config{
		Endpoints: endpoints,
		Now:       now,
	})
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, r.Close()) })
	return r
}

// client returns an HTTP client whose connections close at cleanup, so
// no transport goroutine outlives the test.
func client(tb testing.TB) *http.Client {
	tb.Helper()
	tr := &http.Transport{}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// post sends body to url signed with secret at the fixed clock and
// returns the status answered.
func post(tb testing.TB, c *http.Client, url, secret, id string, body []byte) int {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url,
		bytes.NewReader(body))
	require.NoError(tb, err)
	sig, err := dispatch.Sign(secret, id, clock, body)
	require.NoError(tb, err)
	req.Header.Set(dispatch.HeaderID, id)
	req.Header.Set(dispatch.HeaderTimestamp, strconv.FormatInt(clock.Unix(), 10))
	req.Header.Set(dispatch.HeaderSignature, sig)

	resp, err := c.Do(req)
	require.NoError(tb, err)
	require.NoError(tb, resp.Body.Close())
	return resp.StatusCode
}
