package check

import (
	"testing"

	"github.com/stretchr/testify/require"
)

var m1 = Part{SourceID: "wamid.M1", Part: 0}

// clean is the input of a run where m1 was stored once and its webhook
// delivered once to the one subscriber.
func clean() Input {
	return Input{
		Expected:          []Part{m1},
		Stored:            map[Part]int{m1: 1},
		OpenConversations: map[string]int{"1/555": 1},
		Subscribers:       []string{"/crm"},
		Received:          []Received{{Subscriber: "/crm", WebhookID: "msg_1_1", Part: m1, OK: true}},
	}
}

func TestACleanRunPasses(t *testing.T) {
	j := Judge(clean())
	require.Equal(t, Pass, j.Verdict)
	require.Empty(t, j.Findings)
	require.Equal(t, []Tally{{Part: m1, Messages: 1,
		WebhookIDs: map[string]int{"/crm": 1}, Deliveries: map[string]int{"/crm": 1}}}, j.Tallies)
}

func TestTwoStoredRowsAndTwoWebhookIDsBreakTheFirstAndThirdProperties(t *testing.T) {
	in := clean()
	in.Stored[m1] = 2
	in.Received = append(in.Received,
		Received{Subscriber: "/crm", WebhookID: "msg_1_2", Part: m1, OK: true})
	j := Judge(in)
	require.Equal(t, Fail, j.Verdict)
	require.Equal(t, []Property{NoDuplicate, OneWebhook}, j.Broken)
	require.Contains(t, j.Findings[0].Detail, "2 stored messages")
	require.Contains(t, j.Findings[1].Detail, "2 distinct webhook ids in 2 deliveries")
}

func TestAMessageNeverStoredIsALoss(t *testing.T) {
	in := clean()
	in.Stored = map[Part]int{}
	in.Received = nil
	j := Judge(in)
	require.Equal(t, []Property{NoLoss}, j.Broken)
}

func TestAStoredMessageWithoutWebhookBreaksOneWebhook(t *testing.T) {
	in := clean()
	in.Received = nil
	require.Equal(t, []Property{OneWebhook}, Judge(in).Broken)
}

func TestTheSameWebhookIDDeliveredTwiceIsFairButCounted(t *testing.T) {
	in := clean()
	in.Received = append(in.Received, in.Received[0])
	j := Judge(in)
	require.Equal(t, Pass, j.Verdict)
	require.Equal(t, 2, j.Tallies[0].Deliveries["/crm"])
	require.Equal(t, 1, j.Tallies[0].WebhookIDs["/crm"])
}

func TestDeliveriesNoneOfWhichWasAcceptedBreakOneWebhook(t *testing.T) {
	in := clean()
	in.Received[0].OK = false
	require.Equal(t, []Property{OneWebhook}, Judge(in).Broken)
}

func TestTwoOpenConversationsForOneContactBreakOneConversation(t *testing.T) {
	in := clean()
	in.OpenConversations["1/555"] = 2
	j := Judge(in)
	require.Equal(t, []Property{OneConversation}, j.Broken)
	require.Contains(t, j.Findings[0].Detail, "contact 1/555: 2 open conversations")
}

func TestATimedOutRunIsUnknownEvenWhenEverythingHeld(t *testing.T) {
	in := clean()
	in.TimedOut = true
	require.Equal(t, Unknown, Judge(in).Verdict)
}

func TestEachSubscriberIsJudgedOnItsOwn(t *testing.T) {
	in := clean()
	in.Subscribers = append(in.Subscribers, "/erp")
	j := Judge(in)
	require.Equal(t, []Property{OneWebhook}, j.Broken)
	require.Contains(t, j.Findings[0].Detail, "/erp got no webhook")
}
