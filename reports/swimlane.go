package reports

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/history"
)

// swimlane is one run drawn as a table: a column per worker, a row per
// step in the order the steps happened.
type swimlane struct {
	Lanes []string
	Rows  []laneRow
}

// laneRow is one moment of a run: one worker's step, outcome or note.
type laneRow struct {
	Seq   int
	At    string // milliseconds since the run started
	Broke bool   // a property broke here
	Cells []laneCell
}

// laneCell is one worker's column in a row: its entry, if the row is
// about it, and what the worker was in the middle of.
type laneCell struct {
	Lane string
	// State lists CSS classes: "busy" (a step's I/O in flight), "wait"
	// (held or paused), "tx" (a transaction open).
	State string
	Entry *laneEntry
}

// laneEntry is what a worker did at one row.
type laneEntry struct {
	// Kind is "step" (a checkpoint and, when it came right away, its
	// outcome), "done" (an outcome that came later) or "note".
	Kind       string
	Checkpoint string
	// Detail and Result abbreviate long provider ids; Full is the detail
	// as recorded.
	Detail, Result, Full string
	Err                  string
	// Tone colours the result: "ok", "err", "wait", "info" or "muted".
	Tone  string
	Key   string // what the step touched, to find other steps on it
	Marks []mark
}

// laneState is what one worker is in the middle of while rows are built.
type laneState struct {
	busy, wait, tx bool
}

// swimlaneOf draws t's events.
func swimlaneOf(t sim.Trial) swimlane {
	marks := evidenceOf(t)
	s := swimlane{Lanes: lanesOf(t.Events)}
	states := map[string]*laneState{}
	for _, l := range s.Lanes {
		states[l] = &laneState{}
	}
	events := t.Events
	for i := 0; i < len(events); i++ {
		e := events[i]
		entry := entryOf(e)
		entry.Marks = marks[e.Seq]
		st := states[e.Worker]
		if e.Phase == history.Enter && i+1 < len(events) && isOutcomeOf(events[i+1], e) {
			i++
			merge(entry, events[i])
			entry.Marks = append(entry.Marks, marks[events[i].Seq]...)
			st.apply(e)
			st.apply(events[i])
		} else {
			st.apply(e)
		}
		s.Rows = append(s.Rows, s.row(e, entry, states))
	}
	return s
}

// row lays out event e, drawn as entry, with every lane's state.
func (s swimlane) row(e history.Event, entry *laneEntry,
	states map[string]*laneState) laneRow {
	r := laneRow{Seq: e.Seq, At: millis(e.At)}
	for _, m := range entry.Marks {
		r.Broke = r.Broke || m.Broke
	}
	for _, l := range s.Lanes {
		c := laneCell{Lane: l, State: states[l].classes()}
		if l == e.Worker {
			c.Entry = entry
		}
		r.Cells = append(r.Cells, c)
	}
	return r
}

// isOutcomeOf says next is the outcome of the step enter began.
func isOutcomeOf(next, enter history.Event) bool {
	return next.Phase == history.Done && next.Worker == enter.Worker &&
		next.Checkpoint == enter.Checkpoint
}

func entryOf(e history.Event) *laneEntry {
	en := &laneEntry{Checkpoint: string(e.Checkpoint), Detail: shortIDs(e.Detail),
		Full: e.Detail, Err: e.Err, Key: keyOf(e.Detail)}
	switch e.Phase {
	case history.Enter:
		en.Kind = "step"
	case history.Done:
		en.Kind = "done"
		merge(en, e)
	default:
		en.Kind, en.Result, en.Tone = "note", shortIDs(e.Result), noteTone(e)
	}
	return en
}

// merge sets en's outcome from the Done event e.
func merge(en *laneEntry, e history.Event) {
	en.Result, en.Err = shortIDs(e.Result), e.Err
	en.Tone = "ok"
	if e.Err != "" {
		en.Tone = "err"
	}
	if en.Result == "" && en.Err == "" {
		en.Result = "ok"
	}
}

func noteTone(e history.Event) string {
	switch {
	case e.Err != "":
		return "err"
	case isHold(e.Result):
		return "wait"
	case isRelease(e.Result):
		return "info"
	case e.Result == "finished":
		return "muted"
	}
	return "ok"
}

// apply moves a worker's state past event e.
func (st *laneState) apply(e history.Event) {
	switch e.Phase {
	case history.Enter:
		st.busy = true
	case history.Done:
		st.busy = false
		if e.Checkpoint == checkpoint.TxBegin && e.Err == "" {
			st.tx = true
		}
		if e.Checkpoint == checkpoint.TxCommit {
			st.tx = false
		}
	case history.Note:
		switch {
		case isHold(e.Result):
			st.wait = true
		case isRelease(e.Result):
			st.wait = false
		case e.Checkpoint == "":
			// A job's end: whatever it left open is over.
			*st = laneState{}
		}
	}
}

func (st *laneState) classes() string {
	var out []string
	if st.tx {
		out = append(out, "tx")
	}
	if st.wait {
		out = append(out, "wait")
	} else if st.busy {
		out = append(out, "busy")
	}
	return strings.Join(out, " ")
}

// lanesOf lists the workers W1…Wn in number order, anything else first.
func lanesOf(events []history.Event) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range events {
		if !seen[e.Worker] {
			seen[e.Worker] = true
			out = append(out, e.Worker)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		ni, iw := workerNumber(out[i])
		nj, jw := workerNumber(out[j])
		if iw != jw {
			return !iw
		}
		if iw {
			return ni < nj
		}
		return out[i] < out[j]
	})
	return out
}

func workerNumber(name string) (int, bool) {
	if !strings.HasPrefix(name, "W") {
		return 0, false
	}
	n, err := strconv.Atoi(name[1:])
	return n, err == nil
}

// keyOf names what a step touched, so that steps of two workers on the
// same Redis key or row can be found: the key of a Redis command, the
// source id of a row, or else the whole detail.
func keyOf(detail string) string {
	f := strings.Fields(detail)
	if len(f) >= 2 && isRedisCommand(f[0]) {
		return f[1]
	}
	for _, w := range f {
		if strings.HasPrefix(w, "source_id=") {
			return w
		}
	}
	return detail
}

func isRedisCommand(word string) bool {
	switch word {
	case "GET", "SET", "SETEX", "DEL", "EXPIRE", "compare-and-delete":
		return true
	}
	return false
}

// longID matches a provider message id long enough to crowd a lane.
var longID = regexp.MustCompile(`wamid\.[A-Za-z0-9+/=_-]{24,}`)

// shortIDs abbreviates long provider ids in s, keeping their ends, as the
// terminal summary does; the full text stays in the entry's title.
func shortIDs(s string) string {
	return longID.ReplaceAllStringFunc(s, func(id string) string {
		return id[:12] + "…" + id[len(id)-8:]
	})
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))
}
