// Package history records what every worker of a run did, step by step:
// the checkpoint it passed, when, and what the step read or wrote. The
// record is what swimlanes are drawn from and what replays are checked
// against.
package history

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
)

// Phase tells an event at a checkpoint from the outcome after it.
type Phase string

const (
	// Enter is a worker arriving at a checkpoint, before the step's I/O.
	Enter Phase = "enter"
	// Done is the step's outcome, right after its I/O.
	Done Phase = "done"
	// Note is something the simulator did to a worker: held it, released
	// it, paused it, or ended it.
	Note Phase = "note"
)

// Event is one line of a run's history.
type Event struct {
	// Seq orders the events of a run from 1.
	Seq int `json:"seq"`
	// At is the time since the run started.
	At time.Duration `json:"at_ns"`
	// Worker names the worker, or "sim" for the simulator itself.
	Worker string `json:"worker"`
	// Checkpoint is the step, empty for some notes.
	Checkpoint checkpoint.Name `json:"checkpoint,omitempty"`
	Phase      Phase           `json:"phase"`
	// Job is the provider message id the worker is processing.
	Job     string `json:"job,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	// Detail says what the step touches: a key, a row, a URL.
	Detail string `json:"detail,omitempty"`
	// Result is the step's reply; Err its error.
	Result string `json:"result,omitempty"`
	Err    string `json:"error,omitempty"`
}

// Recorder collects the events of one run. It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	start time.Time
	now   func() time.Time
	// chunks hold the events in fixed-size blocks, so that recording never
	// copies what is already recorded.
	chunks [][]Event
	n      int
}

// chunkSize is how many events one block of a Recorder holds.
const chunkSize = 512

// NewRecorder starts a record at now().
func NewRecorder(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{start: now(), now: now}
}

// Add appends e, stamping its sequence number and time.
func (r *Recorder) Add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	e.Seq = r.n
	e.At = r.now().Sub(r.start)
	last := len(r.chunks) - 1
	if last < 0 || len(r.chunks[last]) == chunkSize {
		r.chunks = append(r.chunks, make([]Event, 0, chunkSize))
		last++
	}
	r.chunks[last] = append(r.chunks[last], e)
}

// Events returns a copy of the events so far, in order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Event, 0, r.n)
	for _, c := range r.chunks {
		out = append(out, c...)
	}
	return out
}

// Order is the sequence of checkpoints the workers entered, such as
// "W1:claim.lookup W2:claim.lookup W1:claim.check". It is what a forced or
// explored interleaving looks like.
func Order(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		if e.Phase != Enter {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%s", e.Worker, e.Checkpoint)
	}
	return b.String()
}
