package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/meta"
)

// BenchmarkFlow drives flow workers with no hook, as in production, over
// b.N jobs, every tenth a copy of the one before it.
func BenchmarkFlow(b *testing.B) { benchKind(b, KindFlow, 1, 8, 64) }

// BenchmarkFloor issues the same commands and statements directly, at one
// worker count: dedupsim bench measures the floor at every one.
func BenchmarkFloor(b *testing.B) { benchKind(b, KindFloor, 8) }

func benchKind(b *testing.B, kind string, workers ...int) {
	for _, s := range claim.Names() {
		for _, n := range workers {
			b.Run(fmt.Sprintf("strategy=%s/workers=%d", s, n), func(b *testing.B) {
				r := newRig(b, kind, s, n, false)
				for _, p := range r.procs {
					if fp, ok := p.(*flowProcessor); ok {
						fp.w.Hook = nil
					}
				}
				r.benchJobs(b)
			})
		}
	}
}

// benchJobs processes b.N jobs with the rig's workers and reports
// messages per second.
func (r *rig) benchJobs(b *testing.B) {
	jobs := make(chan flow.Job, b.N)
	var last flow.Job
	for i := range b.N {
		if i%10 != 9 {
			last = r.job(b, i)
		}
		jobs <- last
	}
	close(jobs)
	lat := newLatencies()
	errs := make(chan int, len(r.procs))
	b.ResetTimer()
	for _, p := range r.procs {
		go func() {
			_, failed, _ := work(b.Context(), p, jobs, lat)
			errs <- failed
		}()
	}
	failed := 0
	for range r.procs {
		failed += <-errs
	}
	b.StopTimer()
	require.Zero(b, failed, "jobs failed")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkFlowHook compares one flow worker with no hook and with the
// simulator's hook recording the history and holding nothing.
func BenchmarkFlowHook(b *testing.B) {
	for _, mode := range []string{"nil", "recording"} {
		b.Run("hook="+mode, func(b *testing.B) {
			r := newRig(b, KindFlow, "setnx", 1, false)
			w := r.procs[0].(*flowProcessor).w
			jobs := make([]flow.Job, b.N)
			for i := range jobs {
				jobs[i] = r.job(b, i)
			}
			b.ResetTimer()
			for i, job := range jobs {
				if mode == "recording" && i%flowHookChunk == 0 {
					b.StopTimer()
					w.Hook = recordingController()
					b.StartTimer()
				} else if mode == "nil" {
					w.Hook = nil
				}
				_, err := w.Process(b.Context(), job)
				require.NoError(b, err)
			}
		})
	}
}

// flowHookChunk is how many jobs one controller sees in BenchmarkFlowHook.
const flowHookChunk = 256

// BenchmarkHook measures one checkpoint, an Enter and its Done.
func BenchmarkHook(b *testing.B) {
	b.Run("nil", func(b *testing.B) { hookLoop(b, false) })
	b.Run("recording", func(b *testing.B) { hookLoop(b, true) })
}

// BenchmarkPhaseHook measures what the bench's own timing hook adds to a
// checkpoint of the flow cells.
func BenchmarkPhaseHook(b *testing.B) {
	b.ReportAllocs()
	h := newPhaseHook()
	ctx := context.Background()
	tr := checkpoint.Tracer{Hook: h, Worker: "W1", Job: "wamid.bench", Attempt: 1}
	for b.Loop() {
		_ = tr.Enter(ctx, checkpoint.MessageInsert, "messages")
		tr.Done(ctx, checkpoint.MessageInsert, "messages", "1 row", nil)
	}
}

// BenchmarkLatencies measures recording one job's timing.
func BenchmarkLatencies(b *testing.B) {
	b.ReportAllocs()
	l := newLatencies()
	j := jobTiming{total: 3 * time.Millisecond}
	for p := range numPhases {
		j.add(p, time.Duration(p+1)*time.Millisecond/2)
	}
	for b.Loop() {
		l.add(j)
	}
}

// BenchmarkParse parses the body of one text message, as ingest does for
// every delivery.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	body := meta.BuildText(phoneNumberID, displayPhone, businessID, meta.TextMessage{
		ID: "wamid.bench00000001", From: "15550000001", Name: "Sender 1",
		Text: "Hello, this is a message of the benchmark.", Timestamp: time.Unix(1e9, 0)})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := meta.Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
