package bench

import (
	"context"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/dedupsim/dedupsim/core/checkpoint"
)

// Phase is a group of the flow's steps whose time is reported together.
type Phase int

// The phases, in flow order. A job's time in a phase is the sum of its
// steps' times there, each step timed from its checkpoint's Enter to its
// Done.
const (
	// Claim is the guard: claim.lookup, claim.check, claim.mark,
	// claim.lock, claim.clear and claim.release.
	Claim Phase = iota
	// Insert is storing the message before COMMIT: contact.upsert,
	// tx.begin (a pool connection and BEGIN), conversation.resolve,
	// media.fetch and message.insert.
	Insert
	// Commit is tx.commit.
	Commit
	// Dispatch is the webhook: dispatch.enqueue, webhook.send and
	// webhook.ack.
	Dispatch
	numPhases
)

// String names the phase as reports do.
func (p Phase) String() string {
	return [...]string{"claim", "insert", "commit", "dispatch"}[p]
}

// Series are the latency series of a cell: the whole job, then each phase.
var Series = []string{"total", "claim", "insert", "commit", "dispatch"}

// phaseOf maps each checkpoint the flow passes to its phase.
var phaseOf = map[checkpoint.Name]Phase{
	checkpoint.ClaimLookup: Claim, checkpoint.ClaimCheck: Claim,
	checkpoint.ClaimMark: Claim, checkpoint.ClaimLock: Claim,
	checkpoint.ClaimClear: Claim, checkpoint.ClaimRelease: Claim,
	checkpoint.ContactUpsert: Insert, checkpoint.TxBegin: Insert,
	checkpoint.ConversationResolve: Insert, checkpoint.MediaFetch: Insert,
	checkpoint.MessageInsert: Insert, checkpoint.TxCommit: Commit,
	checkpoint.DispatchEnqueue: Dispatch, checkpoint.WebhookSend: Dispatch,
	checkpoint.WebhookAck: Dispatch,
}

// jobTiming is where one job spent its time.
type jobTiming struct {
	total  time.Duration
	phases [numPhases]time.Duration
	// seen marks the phases the job passed through.
	seen [numPhases]bool
}

// add counts d to phase p.
func (j *jobTiming) add(p Phase, d time.Duration) {
	j.phases[p] += d
	j.seen[p] = true
}

// phaseHook is a checkpoint hook that times every step of one worker's
// jobs. It holds and records nothing else. One worker owns it: a worker
// processes one job at a time, so it needs no lock.
type phaseHook struct {
	started map[checkpoint.Name]time.Time
	job     jobTiming
}

func newPhaseHook() *phaseHook {
	return &phaseHook{started: make(map[checkpoint.Name]time.Time, len(phaseOf))}
}

// Enter implements checkpoint.Hook.
func (h *phaseHook) Enter(_ context.Context, p checkpoint.Point) error {
	h.started[p.Name] = time.Now()
	return nil
}

// Done implements checkpoint.Hook.
func (h *phaseHook) Done(_ context.Context, p checkpoint.Point, _ checkpoint.Outcome) {
	ph, ok := phaseOf[p.Name]
	if !ok {
		return
	}
	h.job.add(ph, time.Since(h.started[p.Name]))
}

// take returns the timing of the job just processed and starts afresh.
func (h *phaseHook) take(total time.Duration) jobTiming {
	j := h.job
	j.total = total
	h.job = jobTiming{}
	return j
}

// Histogram bounds, in microseconds: 1 µs to a minute, three digits.
const (
	histLowest  = 1
	histHighest = 60_000_000
	histDigits  = 3
)

// latencies collects the job timings of a cell's repeats, one histogram
// per series. It is safe for concurrent use.
type latencies struct {
	mu sync.Mutex
	h  [1 + numPhases]*hdrhistogram.Histogram
}

func newLatencies() *latencies {
	l := &latencies{}
	for i := range l.h {
		l.h[i] = hdrhistogram.New(histLowest, histHighest, histDigits)
	}
	return l
}

// add records one job.
func (l *latencies) add(j jobTiming) {
	l.mu.Lock()
	defer l.mu.Unlock()
	record(l.h[0], j.total)
	for p := range numPhases {
		if j.seen[p] {
			record(l.h[1+p], j.phases[p])
		}
	}
}

// record adds d in microseconds, clamped into the histogram's range.
func record(h *hdrhistogram.Histogram, d time.Duration) {
	us := min(max(d.Microseconds(), histLowest), histHighest)
	_ = h.RecordValue(us) // in range by construction
}

// summary describes every series that has values.
func (l *latencies) summary() map[string]Latency {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]Latency{}
	for i, h := range l.h {
		if h.TotalCount() > 0 {
			out[Series[i]] = describe(h)
		}
	}
	return out
}

// curveQuantiles are the percentiles a latency curve is drawn through.
var curveQuantiles = []float64{0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100}

// describe summarizes one histogram in milliseconds.
func describe(h *hdrhistogram.Histogram) Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	l := Latency{Count: h.TotalCount(), Mean: h.Mean() / 1000,
		P50: ms(h.ValueAtPercentile(50)), P95: ms(h.ValueAtPercentile(95)),
		P99: ms(h.ValueAtPercentile(99)), Max: ms(h.Max())}
	for _, q := range curveQuantiles {
		l.Curve = append(l.Curve, CurvePoint{Percentile: q,
			Ms: ms(h.ValueAtPercentile(q))})
	}
	return l
}
