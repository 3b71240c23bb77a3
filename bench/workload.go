package bench

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/store"
)

// The business number every benchmark message is routed to.
const (
	phoneNumberID = "100000000000001"
	displayPhone  = "+1 555 0100"
	businessID    = "200000000000001"
)

// workload is what every cell of a benchmark processes: the originals in
// the order they are fed, and for the copied ones how long after its
// original each copy is handed out.
type workload struct {
	messages []meta.Message
	// gaps maps an original's index to its copy's delay.
	gaps map[int]time.Duration
}

// newWorkload draws the messages and their copies from cfg's seed. The
// bodies are built and parsed as ingest would, so a job carries exactly
// what a worker gets in production.
func newWorkload(cfg Config) (*workload, error) {
	copies := int(float64(cfg.Deliveries)*cfg.DuplicateRate + 0.5)
	originals := cfg.Deliveries - copies
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6465647570))
	w := &workload{messages: make([]meta.Message, 0, originals),
		gaps: make(map[int]time.Duration, copies)}
	for i := range originals {
		m, err := buildMessage(i, i%cfg.Senders)
		if err != nil {
			return nil, err
		}
		w.messages = append(w.messages, m)
	}
	for _, i := range rng.Perm(originals)[:copies] {
		w.gaps[i] = time.Duration(rng.Int64N(int64(cfg.MaxGap) + 1))
	}
	return w, nil
}

// buildMessage builds and parses the body of one text message.
func buildMessage(i, sender int) (meta.Message, error) {
	body := meta.BuildText(phoneNumberID, displayPhone, businessID, meta.TextMessage{
		ID:        fmt.Sprintf("wamid.bench%08d", i),
		From:      fmt.Sprintf("1555%07d", sender),
		Name:      fmt.Sprintf("Sender %d", sender),
		Text:      fmt.Sprintf("Hello, this is message %d of the benchmark.", i),
		Timestamp: time.Unix(1_700_000_000+int64(i), 0),
	})
	d, err := meta.Parse(body)
	if err != nil {
		return meta.Message{}, fmt.Errorf("parse benchmark message %d: %w", i, err)
	}
	return d.Messages[0], nil
}

// deliveries is how many jobs the workload holds, copies included.
func (w *workload) deliveries() int { return len(w.messages) + len(w.gaps) }

// feeder hands a workload's jobs to the workers over an unbuffered
// channel, so that a copy's delay runs from the moment a worker took its
// original.
type feeder struct {
	w      *workload
	inbox  store.Inbox
	jobs   chan flow.Job
	stopAt time.Time // zero: feed every original
	due    dueHeap
	// fed counts the originals handed out.
	fed int
}

func newFeeder(w *workload, inbox store.Inbox, stopAt time.Time) *feeder {
	return &feeder{w: w, inbox: inbox, jobs: make(chan flow.Job), stopAt: stopAt}
}

// run feeds until every original and due copy is out, or ctx ends, and
// then closes the channel.
func (f *feeder) run(ctx context.Context) {
	defer close(f.jobs)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for f.more() || f.due.Len() > 0 {
		if f.due.Len() > 0 && !time.Now().Before(f.due[0].at) {
			if !f.send(ctx, heap.Pop(&f.due).(dueCopy).job) {
				return
			}
			continue
		}
		if !f.wait(ctx, timer) {
			return
		}
	}
}

// wait hands out the next original, or waits for the next copy to fall
// due. It reports false when ctx has ended.
func (f *feeder) wait(ctx context.Context, timer *time.Timer) bool {
	var due <-chan time.Time
	if f.due.Len() > 0 {
		timer.Reset(time.Until(f.due[0].at))
		due = timer.C
	}
	var out chan<- flow.Job
	var next flow.Job
	if f.more() {
		out, next = f.jobs, f.job(f.fed)
	}
	select {
	case out <- next:
		f.handedOut()
	case <-due:
	case <-ctx.Done():
		return false
	}
	return true
}

// handedOut schedules the copy of the original just handed out.
func (f *feeder) handedOut() {
	if gap, ok := f.w.gaps[f.fed]; ok {
		heap.Push(&f.due, dueCopy{at: time.Now().Add(gap), job: f.job(f.fed)})
	}
	f.fed++
}

// more reports whether an original is left to feed.
func (f *feeder) more() bool {
	if f.fed >= len(f.w.messages) {
		return false
	}
	return f.stopAt.IsZero() || time.Now().Before(f.stopAt)
}

func (f *feeder) send(ctx context.Context, j flow.Job) bool {
	select {
	case f.jobs <- j:
		return true
	case <-ctx.Done():
		return false
	}
}

func (f *feeder) job(i int) flow.Job {
	return flow.Job{Message: f.w.messages[i], Inbox: f.inbox, Attempt: 1}
}

// dueCopy is a copy waiting for its time.
type dueCopy struct {
	at  time.Time
	job flow.Job
}

// dueHeap orders waiting copies by time, soonest first.
type dueHeap []dueCopy

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueCopy)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
