package live_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/live"
)

const secret = "synthetic-app-secret-0001"

func TestMain(m *testing.M) { testenv.Main(m) }

// start runs an endpoint with cfg on the test backend, closed at the end.
func start(tb testing.TB, cfg live.Config) *live.Endpoint {
	tb.Helper()
	if cfg.AppSecret == "" {
		cfg.AppSecret = secret
	}
	if cfg.Inboxes == nil {
		cfg.Inboxes = []string{"200000000000001"}
	}
	ep, err := live.Start(tb.Context(), testenv.Backend(tb), cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, ep.Close()) })
	return ep
}

// post sends body, signed, to the endpoint.
func post(tb testing.TB, ep *live.Endpoint, body []byte) int {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, ep.URL(),
		bytes.NewReader(body))
	require.NoError(tb, err)
	req.Header.Set(meta.SignatureHeader, meta.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	require.NoError(tb, resp.Body.Close())
	return resp.StatusCode
}

func singleText(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "single-text.json"))
	require.NoError(tb, err)
	return b
}

// drain waits for the workers to finish the queue.
func drain(tb testing.TB, ep *live.Endpoint) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	require.NoError(tb, ep.Drain(ctx))
}

func TestTwoCopiesBecomeOneMessageAndOneWebhook(t *testing.T) {
	ep := start(t, live.Config{})
	body := singleText(t)
	require.Equal(t, http.StatusOK, post(t, ep, body))
	require.Equal(t, http.StatusOK, post(t, ep, body))
	drain(t, ep)

	s, err := ep.Summary(t.Context())
	require.NoError(t, err)
	require.Equal(t, check.Pass, s.Judgement.Verdict, s.Judgement.Findings)
	require.Len(t, s.Judgement.Tallies, 1)
	tl := s.Judgement.Tallies[0]
	require.Equal(t, 1, tl.Messages)
	require.Equal(t, 1, tl.WebhookIDs[live.SubscriberPath])
	require.Equal(t, 2, s.JobTotal(tl.Part.SourceID))
	require.Equal(t, map[string]int{"done": 2}, s.Jobs[tl.Part.SourceID])
	require.Equal(t, int64(2), s.Ingest.Accepted)
}

func TestAPausedLegacyGuardStoresOverlappingCopiesTwice(t *testing.T) {
	ep := start(t, live.Config{Strategy: "legacy", Workers: 2,
		Pause: live.Pause{At: checkpoint.ClaimMark, For: 300 * time.Millisecond}})
	body := singleText(t)
	require.Equal(t, http.StatusOK, post(t, ep, body))
	require.Equal(t, http.StatusOK, post(t, ep, body))
	drain(t, ep)

	s, err := ep.Summary(t.Context())
	require.NoError(t, err)
	require.Equal(t, check.Fail, s.Judgement.Verdict)
	require.Equal(t, 2, s.Judgement.Tallies[0].Messages)
}

func TestTheHandshakeAnswersWithTheVerifyToken(t *testing.T) {
	ep := start(t, live.Config{VerifyToken: "tok"})
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"tok"},
		"hub.challenge": {"42"}}
	resp, err := http.Get(ep.URL() + "?" + q.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "42", string(b))
}

func TestAnAddressOffLoopbackIsRefused(t *testing.T) {
	require.NoError(t, live.CheckLoopback("127.0.0.1:8080"))
	require.NoError(t, live.CheckLoopback("[::1]:8080"))
	require.NoError(t, live.CheckLoopback("localhost:0"))
	require.ErrorIs(t, live.CheckLoopback("0.0.0.0:8080"), live.ErrNotLoopback)
	require.ErrorIs(t, live.CheckLoopback("10.1.2.3:80"), live.ErrNotLoopback)
	_, err := live.Start(t.Context(), testenv.Backend(t), live.Config{
		AppSecret: secret, Inboxes: []string{"1"}, Addr: ":8080"})
	require.ErrorIs(t, err, live.ErrNotLoopback)
}

func TestAPauseAtACheckpointTheStrategyNeverPassesIsRefused(t *testing.T) {
	_, err := live.Start(t.Context(), testenv.Backend(t), live.Config{
		AppSecret: secret, Inboxes: []string{"1"}, Strategy: "db-unique",
		Pause: live.Pause{At: checkpoint.ClaimMark, For: time.Second}})
	require.ErrorIs(t, err, live.ErrInvalidConfig)
	require.Contains(t, err.Error(), "strategy db-unique never passes it")
}

func TestCloseIsSafeTwice(t *testing.T) {
	ep := start(t, live.Config{})
	require.NoError(t, ep.Close())
	require.NoError(t, ep.Close())
}
