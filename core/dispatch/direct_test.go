package dispatch_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/dispatch"
)

func TestNewDirectRejectsBadSubscriptions(t *testing.T) {
	t.Parallel()
	good := dispatch.NewSecret(nil)
	cases := map[string]dispatch.Subscription{
		"a relative url":   {URL: "/hook", Secret: good},
		"a non-http url":   {URL: "ftp://127.0.0.1/hook", Secret: good},
		"an unparsed url":  {URL: "http://[::1", Secret: good},
		"an empty secret":  {URL: "http://127.0.0.1/hook"},
		"a garbled secret": {URL: "http://127.0.0.1/hook", Secret: "whsec_!!"},
	}
	for name, sub := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := dispatch.Config{Subscriptions: []dispatch.Subscription{sub}}
			_, err := dispatch.NewDirect(cfg)
			require.ErrorIs(t, err, dispatch.ErrInvalidConfig)
		})
	}
}

func TestDispatchWithoutSubscriptionsSendsNothing(t *testing.T) {
	t.Parallel()
	d, err := dispatch.NewDirect(dispatch.Config{})
	require.NoError(t, err)

	hook := &refuse{at: checkpoint.WebhookSend}
	tr := checkpoint.Tracer{Hook: hook}
	err = d.Dispatch(context.Background(), tr, dispatch.Event{ID: 1})
	require.NoError(t, err)
	require.Equal(t, []checkpoint.Name{checkpoint.DispatchEnqueue}, hook.entered)
}

func TestDispatchStopsWhenTheHookRefusesTheEnqueue(t *testing.T) {
	t.Parallel()
	// Nothing listens here; the hook must stop the POST before it starts.
	sub := dispatch.Subscription{
		URL: "http://127.0.0.1:1/hook", Secret: dispatch.NewSecret(nil),
	}
	d, err := dispatch.NewDirect(dispatch.Config{
		Subscriptions: []dispatch.Subscription{sub},
	})
	require.NoError(t, err)

	hook := &refuse{at: checkpoint.DispatchEnqueue}
	tr := checkpoint.Tracer{Hook: hook}
	err = d.Dispatch(context.Background(), tr, dispatch.Event{ID: 1})
	require.ErrorIs(t, err, errRefused)
	require.NotErrorIs(t, err, dispatch.ErrDeliveryFailed)
	require.Equal(t, []checkpoint.Name{checkpoint.DispatchEnqueue}, hook.entered)
	require.Equal(t, []error{errRefused}, hook.outcomes)
}

var errRefused = errors.New("refused by the test hook")

// refuse is a hook that fails the step at one checkpoint and lets the
// others pass, remembering what it saw.
type refuse struct {
	at       checkpoint.Name
	entered  []checkpoint.Name
	outcomes []error
}

func (h *refuse) Enter(_ context.Context, p checkpoint.Point) error {
	h.entered = append(h.entered, p.Name)
	if p.Name == h.at {
		return errRefused
	}
	return nil
}

func (h *refuse) Done(_ context.Context, _ checkpoint.Point, out checkpoint.Outcome) {
	h.outcomes = append(h.outcomes, out.Err)
}
