package subscriber_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/sim/subscriber"
)

func TestReceiverRecordsEveryRequest(t *testing.T) {
	t.Parallel()
	key := secret(1)
	r := start(t, subscriber.Endpoint{Path: "/crm", Secrets: []string{key}})
	c := client(t)
	body := []byte(`{"event":"message_created","id":5,"inbox":{"id":2}}`)

	require.Equal(t, http.StatusOK, post(t, c, r.URL("/crm"), key, "msg_2_5", body))
	require.Equal(t, http.StatusUnauthorized,
		post(t, c, r.URL("/crm"), secret(2), "msg_2_5", body))
	require.Equal(t, http.StatusNotFound,
		post(t, c, r.URL("/nobody"), key, "msg_2_5", body))

	got := r.Deliveries()
	require.Len(t, got, 3)
	for i, d := range got {
		require.Equal(t, i+1, d.Seq)
		require.Equal(t, clock, d.At)
		require.Equal(t, "msg_2_5", d.WebhookID)
		require.Equal(t, body, d.Body)
		require.Equal(t, int64(5), d.Event.ID)
	}
	require.True(t, got[0].Valid)
	require.Empty(t, got[0].Err)
	require.Equal(t, http.StatusOK, got[0].Status)

	require.False(t, got[1].Valid)
	require.Contains(t, got[1].Err, dispatch.ErrNoMatchingSignature.Error())
	require.Equal(t, http.StatusUnauthorized, got[1].Status)

	require.Equal(t, "/nobody", got[2].Path)
	require.False(t, got[2].Valid)
	require.Equal(t, http.StatusNotFound, got[2].Status)
}

func TestReceiverAcceptsAnyOfAnEndpointsSecrets(t *testing.T) {
	t.Parallel()
	r := start(t, subscriber.Endpoint{
		Path: "/crm", Secrets: []string{secret(1), secret(2)},
	})
	status := post(t, client(t), r.URL("crm"), secret(2), "msg_1_1", []byte("{}"))
	require.Equal(t, http.StatusOK, status)
	require.True(t, r.Deliveries()[0].Valid)
}

func TestReceiverRejectsAStaleTimestamp(t *testing.T) {
	t.Parallel()
	key := secret(1)
	late := clock.Add(subscriber.DefaultTolerance + time.Second)
	r, err := subscriber.Start(context.Background(), subscriber.Config{
		Endpoints: []subscriber.Endpoint{{Path: "/crm", Secrets: []string{key}}},
		Now:       func() time.Time { return late },
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })

	status := post(t, client(t), r.URL("/crm"), key, "msg_1_1", []byte("{}"))
	require.Equal(t, http.StatusUnauthorized, status)
	require.Contains(t, r.Deliveries()[0].Err, dispatch.ErrTimestampOutOfRange.Error())
}

func TestEndpointAnswersItsChosenStatus(t *testing.T) {
	t.Parallel()
	key := secret(1)
	r := start(t, subscriber.Endpoint{
		Path: "/flaky", Secrets: []string{key}, Status: http.StatusServiceUnavailable,
	})
	status := post(t, client(t), r.URL("/flaky"), key, "msg_1_1", []byte("{}"))
	require.Equal(t, http.StatusServiceUnavailable, status)

	d := r.Deliveries()[0]
	require.True(t, d.Valid)
	require.Equal(t, http.StatusServiceUnavailable, d.Status)
}

func TestEndpointDelaysItsAnswer(t *testing.T) {
	t.Parallel()
	key := secret(1)
	const delay = 50 * time.Millisecond
	r := start(t, subscriber.Endpoint{
		Path: "/slow", Secrets: []string{key}, Delay: delay,
	})

	begin := time.Now()
	status := post(t, client(t), r.URL("/slow"), key, "msg_1_1", []byte("{}"))
	require.Equal(t, http.StatusOK, status)
	require.GreaterOrEqual(t, time.Since(begin), delay)
}

func TestAClientGivingUpIsRecordedWithoutAnAnswer(t *testing.T) {
	t.Parallel()
	key := secret(1)
	r := start(t, subscriber.Endpoint{
		Path: "/slow", Secrets: []string{key}, Delay: time.Hour,
	})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL("/slow"), nil)
	require.NoError(t, err)
	_, err = client(t).Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	require.Eventually(t, func() bool { return len(r.Deliveries()) == 1 },
		5*time.Second, 5*time.Millisecond)
	d := r.Deliveries()[0]
	require.Zero(t, d.Status)
	require.Contains(t, d.Err, "client went away")
}

func TestCloseCutsADelayedAnswerShort(t *testing.T) {
	t.Parallel()
	key := secret(1)
	held := make(chan struct{})
	cfg := subscriber.WithOnHold(subscriber.Config{
		Endpoints: []subscriber.Endpoint{
			{Path: "/slow", Secrets: []string{key}, Delay: time.Hour},
		},
	}, func() { close(held) })
	r, err := subscriber.Start(context.Background(), cfg)
	require.NoError(t, err)

	answered := make(chan error, 1)
	c := client(t)
	go func() {
		resp, err := c.Post(r.URL("/slow"), "application/json", nil)
		if err == nil {
			err = resp.Body.Close()
		}
		answered <- err
	}()

	<-held
	require.NoError(t, r.Close())
	require.Error(t, <-answered, "the client must not see an answer")
	require.Len(t, r.Deliveries(), 1)
	require.Zero(t, r.Deliveries()[0].Status)
	require.Contains(t, r.Deliveries()[0].Err, "receiver closed")
}

func TestCloseIsSafeTwice(t *testing.T) {
	t.Parallel()
	r, err := subscriber.Start(context.Background(), subscriber.Config{})
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close())
}

func TestStartRejectsBadEndpoints(t *testing.T) {
	t.Parallel()
	key := secret(1)
	cases := map[string][]subscriber.Endpoint{
		"a path without a slash": {{Path: "crm", Secrets: []string{key}}},
		"no secret":              {{Path: "/crm"}},
		"a garbled secret":       {{Path: "/crm", Secrets: []string{"whsec_!!"}}},
		"an impossible status":   {{Path: "/crm", Secrets: []string{key}, Status: 42}},
		"a negative delay":       {{Path: "/crm", Secrets: []string{key}, Delay: -1}},
		"a path served twice": {
			{Path: "/crm", Secrets: []string{key}},
			{Path: "/crm", Secrets: []string{key}},
		},
	}
	for name, eps := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := subscriber.Start(context.Background(),
				subscriber.Config{Endpoints: eps})
			require.ErrorIs(t, err, subscriber.ErrInvalidConfig)
		})
	}
}
