package subscriber_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/sim/subscriber"
)

// event is a stored message as the dispatcher would send it.
func event() dispatch.Event {
	return dispatch.Event{
		Type:        dispatch.EventMessageCreated,
		ID:          42,
		SourceID:    "wamid.HBgLMTU1NTAwMDAwMDEVAgASGBQzQUFBQUFBQUFBQUFBQUFBQUFBAA==",
		Content:     "hello",
		ContentType: "text",
		MessageType: "incoming",
		CreatedAt:   clock.Add(-time.Second),
		Account:     dispatch.Account{ID: 1},
		Inbox: dispatch.Inbox{
			ID: 7, Name: "Support", PhoneNumberID: "106540352242922",
		},
		Sender: dispatch.Sender{ID: 3, Name: "Ana", WaID: "15550000001"},
		Conversation: dispatch.Conversation{
			ID: 9, Status: "open", InboxID: 7,
		},
	}
}

// direct returns a dispatcher on the fixed clock with its own client.
func direct(tb testing.TB, subs ...dispatch.Subscription) *dispatch.Direct {
	tb.Helper()
	d, err := dispatch.NewDirect(dispatch.Config{
		Subscriptions: subs,
		Client:        client(tb),
		Now:           now,
	})
	require.NoError(tb, err)
	return d
}

func TestDirectDispatchReachesEverySubscriber(t *testing.T) {
	t.Parallel()
	crm, bot := secret(1), secret(2)
	r := start(t,
		subscriber.Endpoint{Path: "/crm", Secrets: []string{crm}},
		subscriber.Endpoint{Path: "/bot", Secrets: []string{bot}},
	)
	d := direct(t,
		dispatch.Subscription{URL: r.URL("/crm"), Secret: crm},
		dispatch.Subscription{URL: r.URL("/bot"), Secret: bot},
	)

	ev := event()
	require.NoError(t, d.Dispatch(context.Background(), checkpoint.Tracer{}, ev))

	got := r.Deliveries()
	require.Len(t, got, 2)
	require.Equal(t, []string{"/crm", "/bot"}, []string{got[0].Path, got[1].Path})
	for _, del := range got {
		require.True(t, del.Valid, del.Err)
		require.Equal(t, http.StatusOK, del.Status)
		require.Equal(t, dispatch.WebhookID(ev), del.WebhookID)
		require.Equal(t, ev, del.Event)
	}
}

func TestDirectDispatchReportsARefusedWebhook(t *testing.T) {
	t.Parallel()
	crm := secret(1)
	r := start(t,
		subscriber.Endpoint{Path: "/crm", Secrets: []string{crm}},
		subscriber.Endpoint{Path: "/bot", Secrets: []string{secret(2)}},
	)
	d := direct(t,
		dispatch.Subscription{URL: r.URL("/crm"), Secret: crm},
		dispatch.Subscription{URL: r.URL("/bot"), Secret: secret(3)},
	)

	err := d.Dispatch(context.Background(), checkpoint.Tracer{}, event())
	require.ErrorIs(t, err, dispatch.ErrDeliveryFailed)
	require.ErrorContains(t, err, r.URL("/bot"))
	require.ErrorContains(t, err, "HTTP 401")
	require.NotContains(t, err.Error(), r.URL("/crm"))

	got := r.Deliveries()
	require.Len(t, got, 2)
	require.True(t, got[0].Valid)
	require.False(t, got[1].Valid)
	require.Equal(t, http.StatusUnauthorized, got[1].Status)
}

func TestDirectDispatchReportsAFailingSubscriber(t *testing.T) {
	t.Parallel()
	key := secret(1)
	r := start(t, subscriber.Endpoint{
		Path: "/crm", Secrets: []string{key}, Status: http.StatusInternalServerError,
	})
	d := direct(t, dispatch.Subscription{URL: r.URL("/crm"), Secret: key})

	err := d.Dispatch(context.Background(), checkpoint.Tracer{}, event())
	require.ErrorIs(t, err, dispatch.ErrDeliveryFailed)
	require.ErrorContains(t, err, "HTTP 500")
	require.True(t, r.Deliveries()[0].Valid)
}

func TestDirectDispatchPassesItsCheckpointsInOrder(t *testing.T) {
	t.Parallel()
	key := secret(1)
	r := start(t, subscriber.Endpoint{Path: "/crm", Secrets: []string{key}})
	url := r.URL("/crm")
	d := direct(t, dispatch.Subscription{URL: url, Secret: key})

	hook := &recorder{}
	ev := event()
	tr := checkpoint.Tracer{Hook: hook, Worker: "W1", Job: ev.SourceID, Attempt: 1}
	require.NoError(t, d.Dispatch(context.Background(), tr, ev))

	id := dispatch.WebhookID(ev)
	require.Equal(t, []step{
		{enter: true, name: checkpoint.DispatchEnqueue, detail: id},
		{name: checkpoint.DispatchEnqueue, detail: id, result: "1 subscriber"},
		{enter: true, name: checkpoint.WebhookSend, detail: url},
		{name: checkpoint.WebhookSend, detail: url, result: "HTTP 200"},
		{enter: true, name: checkpoint.WebhookAck, detail: url},
		{name: checkpoint.WebhookAck, detail: url, result: "HTTP 200"},
	}, hook.steps())
}

func TestDirectDispatchSendsNothingWhenTheHookFailsTheSend(t *testing.T) {
	t.Parallel()
	key := secret(1)
	r := start(t, subscriber.Endpoint{Path: "/crm", Secrets: []string{key}})
	d := direct(t, dispatch.Subscription{URL: r.URL("/crm"), Secret: key})

	hook := &recorder{fail: checkpoint.WebhookSend}
	err := d.Dispatch(context.Background(), checkpoint.Tracer{Hook: hook}, event())
	require.ErrorIs(t, err, dispatch.ErrDeliveryFailed)
	require.ErrorIs(t, err, errInjected)
	require.Empty(t, r.Deliveries())
}

var errInjected = errors.New("injected at a checkpoint")

// step is one call a recorder saw: an Enter, or a Done with its result.
type step struct {
	enter  bool
	name   checkpoint.Name
	detail string
	result string
	failed bool
}

// recorder is a checkpoint hook that remembers every call and fails the
// step at checkpoint fail, if set.
type recorder struct {
	fail checkpoint.Name

	mu   sync.Mutex
	seen []step
}

func (h *recorder) Enter(_ context.Context, p checkpoint.Point) error {
	h.add(step{enter: true, name: p.Name, detail: p.Detail})
	if p.Name == h.fail {
		return errInjected
	}
	return nil
}

func (h *recorder) Done(_ context.Context, p checkpoint.Point, out checkpoint.Outcome) {
	h.add(step{
		name: p.Name, detail: p.Detail, result: out.Result, failed: out.Err != nil,
	})
}

func (h *recorder) add(s step) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, s)
}

func (h *recorder) steps() []step {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]step(nil), h.seen...)
}
