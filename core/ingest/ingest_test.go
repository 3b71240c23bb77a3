package ingest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/ingest"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/store"
)

func TestASignedTextMessageIsOneDurableJobForItsInbox(t *testing.T) {
	e := newEnv(t, ingest.Config{})
	require.Equal(t, http.StatusOK, e.postSigned(t, payload(t, "01-single-text.json")))

	jobs := e.jobs(t)
	require.Len(t, jobs, 1)
	require.Equal(t, "wamid.HBgLMTU1NTAwMDAwMDIVAgASGBQzQTVFNTcwMDAwMDAwMDAwMDAwMQA=",
		jobs[0].Message.ID)
	require.Equal(t, e.inbox, jobs[0].Inbox)
	require.Equal(t, "Test User Alpha", jobs[0].Message.ContactName)
	st := e.h.Stats()
	require.Equal(t, int64(1), st.Accepted)
	require.Equal(t, int64(1), st.Jobs)
	require.Zero(t, st.RejectedTotal())
}

func TestEveryMessageOfEveryEntryAndChangeIsAJob(t *testing.T) {
	e := newEnv(t, ingest.Config{})
	_, err := store.CreateInbox(t.Context(), e.run.DB, "sales", "200000000000002")
	require.NoError(t, err)

	require.Equal(t, http.StatusOK,
		e.postSigned(t, payload(t, "02-three-messages-one-change.json")))
	require.Equal(t, http.StatusOK, e.postSigned(t, payload(t, "03-two-entries.json")))

	jobs := e.jobs(t)
	require.Len(t, jobs, 5)
	require.Equal(t, "200000000000002", jobs[4].Inbox.PhoneNumberID)
	require.Equal(t, int64(5), e.h.Stats().Jobs)
}

func TestABadSignatureIsRefusedWith401AndStoresNothing(t *testing.T) {
	body := payload(t, "01-single-text.json")
	for name, sig := range map[string]string{
		"missing":          "",
		"another secret":   meta.Sign("another-secret", body),
		"not hex":          "sha256=zz",
		"no prefix":        strings.TrimPrefix(meta.Sign(secret, body), "sha256="),
		"other body bytes": meta.Sign(secret, append([]byte(" "), body...)),
	} {
		t.Run("when the signature is "+name, func(t *testing.T) {
			e := newEnv(t, ingest.Config{})
			require.Equal(t, http.StatusUnauthorized, e.post(t, body, sig))
			e.requireNothingStored(t)
			require.Equal(t, int64(1), e.h.Stats().Rejected[ingest.ReasonSignature])
		})
	}
}

func TestABodyThatIsNotANotificationIsRefusedWith400AndStoresNothing(t *testing.T) {
	noID := `{"object":"whatsapp_business_account",` +
		`"entry":[{"changes":[{"value":{"messages":[{"type":"text"}]}}]}]}`
	farFuture := bytes.Replace(payload(t, "01-single-text.json"),
		[]byte(`"1767225610"`), []byte(`"999999999999"`), 1)
	for name, c := range map[string]struct {
		body   []byte
		reason ingest.Reason
	}{
		"malformed JSON": {payload(t, "07-malformed-truncated.json"),
			ingest.ReasonMalformed},
		"another object": {[]byte(`{"object":"page","entry":[]}`),
			ingest.ReasonUnexpectedObject},
		"a JSON array":                     {[]byte(`[1,2]`), ingest.ReasonUnexpectedObject},
		"a message with no id":             {[]byte(noID), ingest.ReasonInvalid},
		"a timestamp beyond the year 9999": {farFuture, ingest.ReasonInvalid},
	} {
		t.Run("when it is "+name, func(t *testing.T) {
			e := newEnv(t, ingest.Config{})
			require.Equal(t, http.StatusBadRequest, e.postSigned(t, c.body))
			e.requireNothingStored(t)
			require.Equal(t, map[ingest.Reason]int64{c.reason: 1}, e.h.Stats().Rejected)
		})
	}
}

// padded returns the single-text body padded with spaces to exactly n
// bytes: still the same JSON.
func padded(tb testing.TB, n int) []byte {
	tb.Helper()
	body := payload(tb, "01-single-text.json")
	require.Less(tb, len(body), n)
	return append(body, bytes.Repeat([]byte(" "), n-len(body))...)
}

func TestABodyOf3MiBIsAcceptedAndOneByteMoreIs413(t *testing.T) {
	e := newEnv(t, ingest.Config{})
	require.Equal(t, http.StatusOK, e.postSigned(t, padded(t, 3*1024*1024)))
	require.Len(t, e.jobs(t), 1)

	e = newEnv(t, ingest.Config{})
	require.Equal(t, http.StatusRequestEntityTooLarge,
		e.postSigned(t, padded(t, 3*1024*1024+1)))
	e.requireNothingStored(t)
	require.Equal(t, int64(1), e.h.Stats().Rejected[ingest.ReasonTooLarge])
}

func TestAnOversizedBodyWithoutContentLengthIs413(t *testing.T) {
	e := newEnv(t, ingest.Config{})
	body := padded(t, 3*1024*1024+1)
	// A body of unknown length is sent chunked, without Content-Length.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url,
		io.MultiReader(bytes.NewReader(body)))
	require.NoError(t, err)
	req.ContentLength = -1
	req.Header.Set(meta.SignatureHeader, meta.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	e.requireNothingStored(t)
}

func TestAMessageForAnUnknownPhoneNumberIDIsAnswered200AndStoredNowhere(t *testing.T) {
	e := newEnv(t, ingest.Config{})
	body := bytes.ReplaceAll(payload(t, "01-single-text.json"),
		[]byte(phoneID), []byte("299999999999999"))
	require.Equal(t, http.StatusOK, e.postSigned(t, body))
	e.requireNothingStored(t)
	st := e.h.Stats()
	require.Equal(t, int64(1), st.Unroutable)
	require.Equal(t, int64(1), st.Accepted)
	require.Zero(t, st.Jobs)
}

func TestAStatusUpdatesTheOutboundMessageItNamesAndOneForAnUnknownIsIgnored(t *testing.T) {
	e := newEnv(t, ingest.Config{})
	// The body's first status names this message; its second, none sent.
	sent := "wamid.HBgLMTU1NTAwMDAwMDIVAgARGBI1RTU3MDAwMDAwMDAwMDAwQjEA"
	_, err := store.CreateOutbound(t.Context(), e.run.DB, e.inbox.ID, sent)
	require.NoError(t, err)

	require.Equal(t, http.StatusOK, e.postSigned(t, payload(t, "04-status-only.json")))
	o, found, err := store.FindOutbound(t.Context(), e.run.DB, sent)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "sent", o.Status, "the body's first status says sent")
	st := e.h.Stats()
	require.Equal(t, int64(1), st.StatusesApplied)
	require.Equal(t, int64(1), st.StatusesIgnored)
	require.Empty(t, e.jobs(t), "statuses create no message")

	delivered := bytes.Replace(payload(t, "04-status-only.json"),
		[]byte(`"status": "sent"`), []byte(`"status": "delivered"`), 1)
	require.Equal(t, http.StatusOK, e.postSigned(t, delivered))
	o, _, err = store.FindOutbound(t.Context(), e.run.DB, sent)
	require.NoError(t, err)
	require.Equal(t, "delivered", o.Status)
}

// handshake sends the subscription check with the given query.
func handshake(tb testing.TB, e *env, q url.Values) (int, string) {
	tb.Helper()
	resp, err := http.Get(e.url + "?" + q.Encode())
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp.StatusCode, string(b)
}

func TestTheHandshakeEchoesTheChallengeOnlyForTheRightToken(t *testing.T) {
	e := newEnv(t, ingest.Config{VerifyToken: verifyToken})
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken},
		"hub.challenge": {"1158201444"}}
	code, body := handshake(t, e, q)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "1158201444", body)

	q.Set("hub.verify_token", "guess")
	code, _ = handshake(t, e, q)
	require.Equal(t, http.StatusForbidden, code)

	q.Set("hub.verify_token", verifyToken)
	q.Set("hub.mode", "unsubscribe")
	code, _ = handshake(t, e, q)
	require.Equal(t, http.StatusForbidden, code)

	st := e.h.Stats()
	require.Equal(t, int64(1), st.Handshakes)
	require.Equal(t, int64(2), st.Rejected[ingest.ReasonHandshake])
}

func TestWithoutAVerifyTokenEveryHandshakeIsRefused(t *testing.T) {
	e := newEnv(t, ingest.Config{})
	code, _ := handshake(t, e, url.Values{"hub.mode": {"subscribe"},
		"hub.verify_token": {""}, "hub.challenge": {"1"}})
	require.Equal(t, http.StatusForbidden, code)
}

func TestOtherMethodsAre405(t *testing.T) {
	e := newEnv(t, ingest.Config{})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, e.url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET, POST", resp.Header.Get("Allow"))
}

// seeJobs is a hook that, at ingest.accepted, counts the jobs another
// connection sees.
type seeJobs struct {
	e    *env
	seen int
	err  error
}

func (s *seeJobs) Enter(ctx context.Context, p checkpoint.Point) error {
	if p.Name == checkpoint.IngestAccepted {
		s.err = s.e.run.DB.QueryRow(ctx, `SELECT count(*) FROM jobs`).Scan(&s.seen)
	}
	return s.err
}

func (s *seeJobs) Done(context.Context, checkpoint.Point, checkpoint.Outcome) {}

func TestIngestAcceptedIsPassedOnceTheJobsAreCommitted(t *testing.T) {
	hook := &seeJobs{}
	e := newEnv(t, ingest.Config{Hook: hook})
	hook.e = e
	require.Equal(t, http.StatusOK,
		e.postSigned(t, payload(t, "02-three-messages-one-change.json")))
	require.NoError(t, hook.err)
	require.Equal(t, 3, hook.seen)
}

func TestAConfigWithoutSecretQueueOrDatabaseIsRefused(t *testing.T) {
	_, err := ingest.New(ingest.Config{})
	require.ErrorIs(t, err, ingest.ErrInvalidConfig)
	e := newEnv(t, ingest.Config{})
	_, err = ingest.New(ingest.Config{DB: e.run.DB, Queue: e.queue})
	require.ErrorIs(t, err, ingest.ErrInvalidConfig)
}
