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
func Exclusive(events []history.Event) []Finding {
	holders := map[string][]string{} // key -> workers holding it, in order
	var fs []Finding
	for _, e := range events {
		if e.Phase != history.Done || e.Err != "" {
			continue
		}
		key := keyOf(e.Detail)
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
		case deletes(e):
			if !contains(holders[key], e.Worker) {
				fs = append(fs, Finding{ExclusiveClaim, fmt.Sprintf(
					"%s deleted %s, held by %s", e.Worker, key,
					holderNames(holders[key]))})
				continue
			}
			holders[key] = remove(holders[key], e.Worker)
		}
	}
	return fs
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
