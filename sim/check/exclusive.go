package check

import (
	"fmt"
	"strings"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim/history"
)

// Exclusive checks property 5 over a run's history: a claim or lock is
// held by at most one worker at any instant, and only its holder releases
// it. A worker holds a key from a successful claim.mark or lock.acquire
// until it deletes the key itself or the key expires; a key deleted by a
// worker that does not hold it is still held, as far as its holder knows.
//
// A step takes effect somewhere between its enter and its outcome, so the
// check is conservative: a take counts from its outcome, a delete from its
// enter. Two holders are reported only when one's take had finished before
// the other's delete began.
func Exclusive(events []history.Event) []Finding {
	holders := map[string][]string{} // key -> workers holding it, in order
	deleting := deletesAtEnter(events)
	var fs []Finding
	for i, e := range events {
		key := keyOf(e.Detail)
		if deleting[i] {
			if !contains(holders[key], e.Worker) {
				fs = append(fs, Finding{ExclusiveClaim, fmt.Sprintf(
					"%s deleted %s, held by %s", e.Worker, key,
					holderNames(holders[key]))})
				continue
			}
			holders[key] = remove(holders[key], e.Worker)
			continue
		}
		if e.Phase != history.Done || e.Err != "" {
			continue
		}
		switch {
		case takes(e):
			if len(holders[key]) > 0 && !contains(holders[key], e.Worker) {
				fs = append(fs, Finding{ExclusiveClaim, fmt.Sprintf(
					"%s took %s while %s held it", e.Worker, key,
					strings.Join(holders[key], ", "))})
			}
			if !contains(holders[key], e.Worker) {
				holders[key] = append(holders[key], e.Worker)
			}
		}
	}
	return fs
}

// deletesAtEnter marks the enter events of steps whose outcome shows they
// deleted a claim or lock key. A worker's steps do not overlap, so a
// step's outcome is the next outcome event of the same worker.
func deletesAtEnter(events []history.Event) map[int]bool {
	out := map[int]bool{}
	open := map[string]int{} // worker -> index of its open enter
	for i, e := range events {
		switch e.Phase {
		case history.Enter:
			open[e.Worker] = i
		case history.Done:
			j, ok := open[e.Worker]
			if ok && e.Err == "" && deletes(e) && events[j].Checkpoint == e.Checkpoint {
				out[j] = true
			}
			delete(open, e.Worker)
		}
	}
	return out
}

// takes reports whether e is a successful claim or lock.
func takes(e history.Event) bool {
	return (e.Checkpoint == checkpoint.ClaimMark || e.Checkpoint == checkpoint.LockAcquire) &&
		e.Result == "OK"
}

// deletes reports whether e removed a claim or lock key.
func deletes(e history.Event) bool {
	switch e.Checkpoint {
	case checkpoint.ClaimClear, checkpoint.ClaimRelease, checkpoint.LockRelease:
		return e.Result == "(integer) 1"
	}
	return false
}

// keyOf takes the key out of a step detail such as "SET k NX EX 30".
func keyOf(detail string) string {
	f := strings.Fields(detail)
	if len(f) < 2 {
		return detail
	}
	return f[1]
}

func holderNames(ws []string) string {
	if len(ws) == 0 {
		return "nobody"
	}
	return strings.Join(ws, ", ")
}

func contains(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

func remove(ws []string, w string) []string {
	out := ws[:0:0]
	for _, x := range ws {
		if x != w {
			out = append(out, x)
		}
	}
	return out
}
