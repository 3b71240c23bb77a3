package reports

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/history"
)

// The step details and results the evidence is read from, as the
// reference flow records them. A history that says something else yields
// no marks, never wrong ones.
var (
	insertDetail  = regexp.MustCompile(`source_id=(\S+) part=(\d+)`)
	insertResult  = regexp.MustCompile(`^1 row \(id (\d+)\)`)
	webhookRowID  = regexp.MustCompile(`^msg_\d+_(\d+)$`)
	httpStatus    = regexp.MustCompile(`^HTTP (\d{3})`)
	contactDetail = regexp.MustCompile(`contact=(\d+)`)
	convResult    = regexp.MustCompile(`^conversation (\d+)$`)
)

// mark is a note pinned to one event of a run: a row that turned out to be
// a duplicate, or the moment a property broke.
type mark struct {
	// Property names the broken property; empty for a plain note.
	Property string
	Text     string
	// Broke says this event is where the property broke.
	Broke bool
}

// evidence ties the steps of one run to the properties it broke.
type evidence struct {
	broken map[string]bool
	dup    map[string]bool // parts stored more than once

	rowPart  map[string]string              // row id -> part
	tx       map[string]*openTx             // worker -> its open transaction
	rows     map[string][]string            // part -> committed row ids
	convs    map[string][]string            // contact -> committed conversations
	hookID   map[string]string              // worker -> webhook id it sends
	hookPart map[string]string              // worker -> part of that webhook
	sent     map[string]map[string][]string // subscriber -> part -> ids
	hookRow  map[string]string              // worker -> row of its webhook
	sends    []sentRow                      // every delivery of a known row
	done     map[string]bool                // committed row ids

	marks map[int][]mark // by event seq
}

// sentRow is a delivery of the webhook for one row.
type sentRow struct {
	seq int
	row string
}

// openTx is what a worker's transaction wrote before its COMMIT.
type openTx struct {
	rows  []string // row ids
	parts []string
	conv  string
	who   string // contact of conv
}

// evidenceOf reads t's events and marks duplicate rows and the events at
// which each broken property broke.
func evidenceOf(t sim.Trial) map[int][]mark {
	ev := &evidence{broken: map[string]bool{}, dup: map[string]bool{},
		rowPart: map[string]string{}, tx: map[string]*openTx{},
		rows: map[string][]string{}, convs: map[string][]string{},
		hookID: map[string]string{}, hookPart: map[string]string{},
		sent: map[string]map[string][]string{}, hookRow: map[string]string{},
		done: map[string]bool{}, marks: map[int][]mark{}}
	for _, p := range t.Judgement.Broken {
		ev.broken[string(p)] = true
	}
	for _, tl := range t.Judgement.Tallies {
		if tl.Messages > 1 {
			ev.dup[tl.Part.String()] = true
		}
	}
	for _, e := range t.Events {
		if e.Phase == history.Done && e.Err == "" {
			ev.step(e)
		}
	}
	ev.ghosts()
	ev.claims(t)
	return ev.marks
}

func (ev *evidence) step(e history.Event) {
	switch e.Checkpoint {
	case checkpoint.TxBegin:
		ev.tx[e.Worker] = &openTx{}
	case checkpoint.ConversationResolve:
		ev.resolved(e)
	case checkpoint.MessageInsert:
		ev.inserted(e)
	case checkpoint.TxCommit:
		ev.committed(e)
	case checkpoint.DispatchEnqueue:
		ev.hookID[e.Worker] = e.Detail
		ev.hookPart[e.Worker], ev.hookRow[e.Worker] = "", ""
		if m := webhookRowID.FindStringSubmatch(e.Detail); m != nil {
			ev.hookPart[e.Worker], ev.hookRow[e.Worker] = ev.rowPart[m[1]], m[1]
		}
	case checkpoint.WebhookSend:
		ev.delivered(e)
	}
}

func (ev *evidence) open(worker string) *openTx {
	tx := ev.tx[worker]
	if tx == nil {
		tx = &openTx{}
		ev.tx[worker] = tx
	}
	return tx
}

func (ev *evidence) resolved(e history.Event) {
	c := contactDetail.FindStringSubmatch(e.Detail)
	r := convResult.FindStringSubmatch(e.Result)
	if c != nil && r != nil {
		tx := ev.open(e.Worker)
		tx.who, tx.conv = c[1], r[1]
	}
}

func (ev *evidence) inserted(e history.Event) {
	d := insertDetail.FindStringSubmatch(e.Detail)
	r := insertResult.FindStringSubmatch(e.Result)
	if d == nil || r == nil {
		return
	}
	n, err := strconv.Atoi(d[2])
	if err != nil {
		return
	}
	id, name := r[1], check.Part{SourceID: d[1], Part: n}.String()
	ev.rowPart[id] = name
	tx := ev.open(e.Worker)
	tx.rows = append(tx.rows, id)
	tx.parts = append(tx.parts, name)
	if ev.dup[name] {
		ev.add(e.Seq, mark{Property: string(check.NoDuplicate),
			Text: "row id " + id + " is one of several rows for " + name})
	}
}

// committed makes the transaction's rows and conversation real, and marks
// the commit that made a part's second row or a contact's second open
// conversation.
func (ev *evidence) committed(e history.Event) {
	tx := ev.open(e.Worker)
	delete(ev.tx, e.Worker)
	for i, id := range tx.rows {
		part := tx.parts[i]
		ev.done[id] = true
		ev.rows[part] = append(ev.rows[part], id)
		if len(ev.rows[part]) == 2 && ev.broken[string(check.NoDuplicate)] {
			ev.add(e.Seq, mark{Property: string(check.NoDuplicate), Broke: true,
				Text: fmt.Sprintf("%s now has 2 committed rows (ids %s)", part,
					strings.Join(ev.rows[part], ", "))})
		}
	}
	if tx.conv == "" || slices.Contains(ev.convs[tx.who], tx.conv) {
		return
	}
	ev.convs[tx.who] = append(ev.convs[tx.who], tx.conv)
	if len(ev.convs[tx.who]) == 2 && ev.broken[string(check.OneConversation)] {
		ev.add(e.Seq, mark{Property: string(check.OneConversation), Broke: true,
			Text: fmt.Sprintf("contact %s now has 2 open conversations (%s)", tx.who,
				strings.Join(ev.convs[tx.who], ", "))})
	}
}

// delivered records a webhook that reached its subscriber and marks the
// delivery that brought a subscriber a second webhook id for one part.
func (ev *evidence) delivered(e history.Event) {
	id, part := ev.hookID[e.Worker], ev.hookPart[e.Worker]
	if id == "" || !httpStatus.MatchString(e.Result) {
		return
	}
	sub := e.Detail
	if u, err := url.Parse(e.Detail); err == nil && u.Path != "" {
		sub = u.Path
	}
	ev.add(e.Seq, mark{Text: "delivered " + id + " to " + sub})
	if row := ev.hookRow[e.Worker]; row != "" {
		ev.sends = append(ev.sends, sentRow{seq: e.Seq, row: row})
	}
	if part == "" {
		return
	}
	if ev.sent[sub] == nil {
		ev.sent[sub] = map[string][]string{}
	}
	ids := ev.sent[sub][part]
	if slices.Contains(ids, id) {
		return
	}
	ids = append(ids, id)
	ev.sent[sub][part] = ids
	if len(ids) == 2 && ev.broken[string(check.OneWebhook)] {
		ev.add(e.Seq, mark{Property: string(check.OneWebhook), Broke: true,
			Text: fmt.Sprintf("%s got a second webhook id for %s (%s)", sub, part,
				strings.Join(ids, ", "))})
	}
}

func (ev *evidence) add(seq int, m mark) {
	ev.marks[seq] = append(ev.marks[seq], m)
}

// ghosts marks the deliveries of webhooks for rows that were never
// committed, once the whole run is known.
func (ev *evidence) ghosts() {
	if !ev.broken[string(check.NoGhostWebhook)] {
		return
	}
	for _, d := range ev.sends {
		if !ev.done[d.row] {
			ev.add(d.seq, mark{Property: string(check.NoGhostWebhook), Broke: true,
				Text: "a webhook for row id " + d.row + ", which was never committed"})
		}
	}
}

// claims marks the steps that exclusive-claim findings name. A finding
// reads "W2 took KEY while W1 held it" or "W2 deleted KEY, held by W1":
// the step is that worker's first successful take or delete of that key
// not marked yet.
func (ev *evidence) claims(t sim.Trial) {
	used := map[int]bool{}
	for _, f := range t.Judgement.Findings {
		w := strings.Fields(f.Detail)
		if f.Property != check.ExclusiveClaim || len(w) < 3 {
			continue
		}
		worker, verb, key := w[0], w[1], strings.TrimSuffix(w[2], ",")
		for _, e := range t.Events {
			if used[e.Seq] || e.Phase != history.Done || e.Worker != worker ||
				e.Err != "" || keyOf(e.Detail) != key || !claimVerb(e, verb) {
				continue
			}
			used[e.Seq] = true
			ev.add(e.Seq, mark{Property: string(check.ExclusiveClaim), Broke: true,
				Text: f.Detail})
			break
		}
	}
}

// claimVerb says whether e is the kind of step a finding's verb names.
func claimVerb(e history.Event, verb string) bool {
	switch verb {
	case "took":
		return e.Checkpoint == checkpoint.ClaimMark || e.Checkpoint == checkpoint.LockAcquire
	case "deleted":
		return e.Checkpoint == checkpoint.ClaimClear ||
			e.Checkpoint == checkpoint.ClaimRelease || e.Checkpoint == checkpoint.LockRelease
	}
	return false
}
