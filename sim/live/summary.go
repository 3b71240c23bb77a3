package live

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/ingest"
	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/sim/check"
)

// Summary is what became of every message the endpoint accepted.
type Summary struct {
	// Judgement holds a tally per message part, in id order: stored rows,
	// and distinct webhook ids and deliveries at SubscriberPath. Its
	// verdict covers no-duplicate, no-loss, one-webhook,
	// no-ghost-webhook and one-conversation; exclusive-claim needs a
	// history the endpoint does not record.
	Judgement check.Judgement
	// Jobs counts the jobs of each message id by state: pending, done,
	// dead.
	Jobs map[string]map[string]int
	// Ingest are the handler's counters.
	Ingest ingest.Stats
	// Failures lists the job attempts that failed, in order.
	Failures []string
}

// Summary reads what the run holds now and judges it.
func (e *Endpoint) Summary(ctx context.Context) (Summary, error) {
	s := Summary{Jobs: map[string]map[string]int{}, Ingest: e.Stats()}
	in := check.Input{Stored: map[check.Part]int{}, StoredIDs: map[int64]bool{},
		OpenConversations: map[string]int{}, Subscribers: []string{SubscriberPath}}
	if err := e.readJobs(ctx, &s, &in); err != nil {
		return Summary{}, err
	}
	if err := e.readRows(ctx, &in); err != nil {
		return Summary{}, err
	}
	for _, d := range e.receiver.Deliveries() {
		if d.Event.ID != 0 {
			in.ReceivedIDs = append(in.ReceivedIDs, d.Event.ID)
		}
		in.Received = append(in.Received, check.Received{Subscriber: d.Path,
			WebhookID: d.WebhookID,
			Part:      check.Part{SourceID: d.Event.SourceID, Part: d.Event.Part},
			OK:        d.Valid && d.Status >= 200 && d.Status < 300})
	}
	s.Judgement = check.Judge(in)
	e.mu.Lock()
	s.Failures = slices.Clone(e.failures)
	e.mu.Unlock()
	return s, nil
}

// readJobs counts the jobs per message and state, and lists the parts
// they carry as expected.
func (e *Endpoint) readJobs(ctx context.Context, s *Summary, in *check.Input) error {
	jobs, err := e.queue.List(ctx)
	if err != nil {
		return fmt.Errorf("summarize: %w", err)
	}
	seen := map[check.Part]bool{}
	for _, j := range jobs {
		var job flow.Job
		if err := json.Unmarshal(j.Payload, &job); err != nil {
			return fmt.Errorf("summarize: decode job %d: %w", j.ID, err)
		}
		id := job.Message.ID
		if s.Jobs[id] == nil {
			s.Jobs[id] = map[string]int{}
		}
		s.Jobs[id][j.State]++
		for _, p := range job.Message.Parts {
			part := check.Part{SourceID: id, Part: p.Index}
			if !seen[part] {
				seen[part] = true
				in.Expected = append(in.Expected, part)
			}
		}
	}
	return nil
}

// readRows reads the stored rows and open conversations.
func (e *Endpoint) readRows(ctx context.Context, in *check.Input) error {
	parts, err := store.CountParts(ctx, e.run.DB)
	if err != nil {
		return fmt.Errorf("summarize: %w", err)
	}
	for _, p := range parts {
		in.Stored[check.Part{SourceID: p.SourceID, Part: p.Part}] = p.Rows
		for _, id := range p.IDs {
			in.StoredIDs[id] = true
		}
	}
	convs, err := store.CountOpenConversations(ctx, e.run.DB)
	if err != nil {
		return fmt.Errorf("summarize: %w", err)
	}
	for _, c := range convs {
		in.OpenConversations[fmt.Sprintf("%d/%s", c.InboxID, c.WaID)] = c.Open
	}
	return nil
}

// JobTotal counts the jobs of message id in every state.
func (s Summary) JobTotal(id string) int {
	n := 0
	for _, c := range s.Jobs[id] {
		n += c
	}
	return n
}
