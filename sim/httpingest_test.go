package sim_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/history"
)

// slowAck is one text message through the HTTP endpoint, answered after
// the provider's timeout: the provider tries three times.
const slowAck = `app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
subscribers: [{name: crm, secret: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=}]
workers: 2
ingest: {mode: http, ack_delay_ms: 300, provider_timeout_ms: 100, redeliver: 2}
deliveries: [{payload: single-text.json}]
strategies: [db-unique]
`

// notes lists the results of the events of worker, in order.
func notes(events []history.Event, worker string) []string {
	var out []string
	for _, e := range events {
		if e.Worker == worker && e.Phase == history.Note {
			out = append(out, e.Result)
		}
	}
	return out
}

// accepted counts the endpoint's passes of ingest.accepted.
func accepted(events []history.Event) int {
	n := 0
	for _, e := range events {
		if e.Checkpoint == checkpoint.IngestAccepted && e.Phase == history.Done {
			n++
		}
	}
	return n
}

func TestASlowAnswerMakesTheProviderRedeliverAndEveryTryIsAJob(t *testing.T) {
	tr, err := sim.RunTrial(ctx(t), testenv.Backend(t), scenario(t, slowAck),
		scenarios.Config{Strategy: "db-unique", Dispatch: "direct"}, 1, sim.Options{})
	require.NoError(t, err)
	require.Equal(t, check.Pass, tr.Judgement.Verdict, tr.Judgement.Findings)
	require.Equal(t, 3, accepted(tr.Events), "each try was committed")
	tries := notes(tr.Events, "provider")
	require.Len(t, tries, 3, tries)
	for _, n := range tries {
		require.Contains(t, n, "no answer within 100ms")
	}
	for _, outcomes := range tr.Outcomes {
		require.Equal(t, []string{"stored", "duplicate", "duplicate"}, outcomes)
	}
}

func TestAnAnswerInTimeIsNotRedelivered(t *testing.T) {
	text := strings.Replace(slowAck, "ack_delay_ms: 300, provider_timeout_ms: 100",
		"ack_delay_ms: 0, provider_timeout_ms: 10000", 1)
	tr, err := sim.RunTrial(ctx(t), testenv.Backend(t), scenario(t, text),
		scenarios.Config{Strategy: "db-unique", Dispatch: "direct"}, 1, sim.Options{})
	require.NoError(t, err)
	require.Equal(t, 1, accepted(tr.Events))
	tries := notes(tr.Events, "provider")
	require.Len(t, tries, 1)
	require.Contains(t, tries[0], "HTTP 200")
}

func TestTheOriginalRaceReproducesThroughTheHTTPEndpoint(t *testing.T) {
	sc := scenario(t, race+"ingest: http\n")
	tr, err := sim.RunTrial(ctx(t), testenv.Backend(t), sc,
		scenarios.Config{Strategy: "legacy", Dispatch: "direct"}, 1, sim.Options{})
	require.NoError(t, err)
	require.Equal(t, 2, accepted(tr.Events))
	require.Contains(t, tr.Judgement.Broken, check.NoDuplicate)
	require.Equal(t, 2, tr.Judgement.Tallies[0].Messages)
}
