package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/sim/check"
)

// judge reads what the run left in Postgres and at the subscribers and
// checks every property over it.
func (e *runEnv) judge(ctx context.Context, timedOut bool) (check.Judgement, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	parts, err := store.CountParts(ctx, e.run.DB)
	if err != nil {
		return check.Judgement{}, fmt.Errorf("judge run: %w", err)
	}
	convs, err := store.CountOpenConversations(ctx, e.run.DB)
	if err != nil {
		return check.Judgement{}, fmt.Errorf("judge run: %w", err)
	}
	in := check.Input{Expected: e.expected(), Stored: map[check.Part]int{},
		OpenConversations: map[string]int{}, TimedOut: timedOut,
		Events: e.rec.Events(), StoredIDs: map[int64]bool{}}
	for _, p := range parts {
		in.Stored[check.Part{SourceID: p.SourceID, Part: p.Part}] = p.Rows
		for _, id := range p.IDs {
			in.StoredIDs[id] = true
		}
	}
	for _, c := range convs {
		in.OpenConversations[fmt.Sprintf("%d/%s", c.InboxID, c.WaID)] = c.Open
	}
	for _, ep := range endpoints(e.sc) {
		in.Subscribers = append(in.Subscribers, ep.Path)
	}
	for _, d := range e.receiver.Deliveries() {
		if d.Event.ID != 0 {
			in.ReceivedIDs = append(in.ReceivedIDs, d.Event.ID)
		}
		in.Received = append(in.Received, check.Received{
			Subscriber: d.Path, WebhookID: d.WebhookID,
			Part: check.Part{SourceID: d.Event.SourceID, Part: d.Event.Part},
			OK:   d.Valid && d.Status >= 200 && d.Status < 300,
		})
	}
	return check.Judge(in), nil
}

// expected lists the parts of every message the deliveries carried to a
// known inbox.
func (e *runEnv) expected() []check.Part {
	seen := map[check.Part]bool{}
	var out []check.Part
	for _, a := range e.sc.Arrivals {
		for _, m := range a.Parsed.Messages {
			if _, ok := e.inboxes[m.PhoneNumberID]; !ok {
				continue
			}
			for _, p := range m.Parts {
				part := check.Part{SourceID: m.ID, Part: p.Index}
				if !seen[part] {
					seen[part] = true
					out = append(out, part)
				}
			}
		}
	}
	return out
}
