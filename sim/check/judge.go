package check

import (
	"fmt"
	"sort"

	"github.com/dedupsim/dedupsim/sim/history"
)

// Verdict is a run's result: pass, fail, or unknown when the run did not
// finish in time. Unknown is never a pass.
type Verdict string

// The verdicts.
const (
	Pass    Verdict = "pass"
	Fail    Verdict = "fail"
	Unknown Verdict = "unknown"
)

// Part names one stored row's worth of a provider message.
type Part struct {
	SourceID string `json:"source_id"`
	Part     int    `json:"part"`
}

// String writes the part as "source_id#part".
func (p Part) String() string { return fmt.Sprintf("%s#%d", p.SourceID, p.Part) }

// Received is one webhook delivery as a subscriber recorded it.
type Received struct {
	// Subscriber is the URL path it arrived at.
	Subscriber string
	WebhookID  string
	Part       Part
	// OK means the signature verified and the subscriber answered 2xx.
	OK bool
}

// Input is everything a run left behind that the properties read.
type Input struct {
	// Expected lists the parts the deliveries carried to known inboxes.
	Expected []Part
	// Stored counts rows per part, from Postgres.
	Stored map[Part]int
	// OpenConversations counts open conversations per "inbox/contact".
	OpenConversations map[string]int
	// Subscribers lists each distinct subscriber URL path.
	Subscribers []string
	// Received lists every webhook delivery the subscribers recorded.
	Received []Received
	// TimedOut says the run passed its deadline.
	TimedOut bool
	// Events is the run's history, for the claim and lock properties.
	Events []history.Event
	// StoredIDs lists the ids of every stored message row.
	StoredIDs map[int64]bool
	// ReceivedIDs gives, per delivery, the row id its payload names.
	ReceivedIDs []int64
}

// Tally is what one part came to.
type Tally struct {
	Part     Part `json:"part"`
	Messages int  `json:"messages"`
	// WebhookIDs counts distinct webhook ids per subscriber.
	WebhookIDs map[string]int `json:"webhook_ids"`
	// Deliveries counts deliveries per subscriber, repeats included.
	Deliveries map[string]int `json:"deliveries"`
}

// Finding is one broken property, said plainly.
type Finding struct {
	Property Property `json:"property"`
	Detail   string   `json:"detail"`
}

// Judgement is the verdict of one run with its evidence.
type Judgement struct {
	Verdict  Verdict    `json:"verdict"`
	Findings []Finding  `json:"findings,omitempty"`
	Tallies  []Tally    `json:"tallies"`
	Broken   []Property `json:"broken,omitempty"`
}

// Judge checks every property over in.
func Judge(in Input) Judgement {
	tallies := tally(in)
	var fs []Finding
	fs = append(fs, parts(in, tallies)...)
	fs = append(fs, webhooks(in, tallies)...)
	fs = append(fs, ghosts(in)...)
	fs = append(fs, Exclusive(in.Events)...)
	fs = append(fs, conversations(in)...)

	j := Judgement{Verdict: Pass, Findings: fs, Tallies: tallies}
	seen := map[Property]bool{}
	for _, f := range fs {
		if !seen[f.Property] {
			seen[f.Property] = true
			j.Broken = append(j.Broken, f.Property)
		}
	}
	switch {
	case in.TimedOut:
		j.Verdict = Unknown
	case len(fs) > 0:
		j.Verdict = Fail
	}
	return j
}

// tally counts rows and webhooks per part: every expected part, and every
// stored or delivered part nobody expected.
func tally(in Input) []Tally {
	byPart := map[Part]*Tally{}
	get := func(p Part) *Tally {
		t, ok := byPart[p]
		if !ok {
			t = &Tally{Part: p, WebhookIDs: map[string]int{}, Deliveries: map[string]int{}}
			byPart[p] = t
		}
		return t
	}
	for _, p := range in.Expected {
		get(p)
	}
	for p, n := range in.Stored {
		get(p).Messages = n
	}
	ids := map[Part]map[string]map[string]bool{}
	for _, r := range in.Received {
		t := get(r.Part)
		t.Deliveries[r.Subscriber]++
		if ids[r.Part] == nil {
			ids[r.Part] = map[string]map[string]bool{}
		}
		if ids[r.Part][r.Subscriber] == nil {
			ids[r.Part][r.Subscriber] = map[string]bool{}
		}
		ids[r.Part][r.Subscriber][r.WebhookID] = true
		t.WebhookIDs[r.Subscriber] = len(ids[r.Part][r.Subscriber])
	}
	out := make([]Tally, 0, len(byPart))
	for _, t := range byPart {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Part.String() < out[j].Part.String() })
	return out
}

// parts checks properties 1 and 2.
func parts(in Input, tallies []Tally) []Finding {
	expected := map[Part]bool{}
	for _, p := range in.Expected {
		expected[p] = true
	}
	var fs []Finding
	for _, t := range tallies {
		if t.Messages > 1 {
			fs = append(fs, Finding{NoDuplicate,
				fmt.Sprintf("%s: %d stored messages", t.Part, t.Messages)})
		}
		if expected[t.Part] && t.Messages == 0 {
			fs = append(fs, Finding{NoLoss, fmt.Sprintf("%s: no stored message", t.Part)})
		}
	}
	return fs
}

// webhooks checks property 3 for every subscriber and every stored or
// expected part.
func webhooks(in Input, tallies []Tally) []Finding {
	ok := map[Part]map[string]bool{}
	for _, r := range in.Received {
		if r.OK {
			if ok[r.Part] == nil {
				ok[r.Part] = map[string]bool{}
			}
			ok[r.Part][r.Subscriber] = true
		}
	}
	var fs []Finding
	for _, t := range tallies {
		for _, sub := range in.Subscribers {
			ids, n := t.WebhookIDs[sub], t.Deliveries[sub]
			switch {
			case ids > 1:
				fs = append(fs, Finding{OneWebhook, fmt.Sprintf(
					"%s: %s got %d distinct webhook ids in %d deliveries",
					t.Part, sub, ids, n)})
			case ids == 0 && t.Messages > 0:
				fs = append(fs, Finding{OneWebhook,
					fmt.Sprintf("%s: %s got no webhook", t.Part, sub)})
			case ids == 1 && !ok[t.Part][sub]:
				fs = append(fs, Finding{OneWebhook, fmt.Sprintf(
					"%s: %s got %d deliveries, none accepted", t.Part, sub, n)})
			}
		}
	}
	return fs
}

// ghosts checks property 4: every webhook names a row that exists, so no
// webhook went out for a transaction that rolled back.
func ghosts(in Input) []Finding {
	var fs []Finding
	seen := map[int64]bool{}
	for _, id := range in.ReceivedIDs {
		if !in.StoredIDs[id] && !seen[id] {
			seen[id] = true
			fs = append(fs, Finding{NoGhostWebhook,
				fmt.Sprintf("a webhook names message row %d, which was never committed", id)})
		}
	}
	return fs
}

// conversations checks property 6.
func conversations(in Input) []Finding {
	keys := make([]string, 0, len(in.OpenConversations))
	for k := range in.OpenConversations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var fs []Finding
	for _, k := range keys {
		if n := in.OpenConversations[k]; n > 1 {
			fs = append(fs, Finding{OneConversation,
				fmt.Sprintf("contact %s: %d open conversations", k, n)})
		}
	}
	return fs
}
