package bench

import (
	"context"
	"testing"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim/history"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// MeasureHook measures what one checkpoint costs a worker: a Tracer.Enter
// and its Done, with no hook as outside the simulator, and through a
// schedule.Controller that records the history and holds nothing. It takes
// about two seconds.
func MeasureHook() HookCost {
	none := testing.Benchmark(func(b *testing.B) { hookLoop(b, false) })
	rec := testing.Benchmark(func(b *testing.B) { hookLoop(b, true) })
	return HookCost{NilNs: nsPerOp(none), RecordingNs: nsPerOp(rec),
		RecordingAllocs: rec.AllocsPerOp(), RecordingBytes: rec.AllocedBytesPerOp()}
}

// hookChunk is how many checkpoints one controller sees before the loop
// starts a fresh one, untimed: a run's history is about that long, and a
// history growing without end would measure the allocator instead.
const hookChunk = 4096

// hookLoop passes b.N checkpoints, each an Enter and a Done as a worker
// passes claim.mark.
func hookLoop(b *testing.B, recording bool) {
	b.ReportAllocs()
	ctx := context.Background()
	tr := checkpoint.Tracer{Worker: "W1", Job: "wamid.bench00000001", Attempt: 1}
	const detail = "SET dedupsim:0123456789ab:MESSAGE_SOURCE_KEY::wamid.bench00000001" +
		" NX EX 86400"
	for i := range b.N {
		if recording && i%hookChunk == 0 {
			b.StopTimer()
			tr.Hook = recordingController()
			b.StartTimer()
		}
		_ = tr.Enter(ctx, checkpoint.ClaimMark, detail)
		tr.Done(ctx, checkpoint.ClaimMark, detail, "OK", nil)
	}
}

// recordingController is the simulator's hook with history recording on
// and nothing pinned: no barrier, no fault.
func recordingController() *schedule.Controller {
	return schedule.New(schedule.Config{Workers: []string{"W1"},
		Recorder: history.NewRecorder(nil)})
}

// nsPerOp is a result's time per operation, with its fraction.
func nsPerOp(r testing.BenchmarkResult) float64 {
	if r.N == 0 {
		return 0
	}
	return float64(r.T.Nanoseconds()) / float64(r.N)
}
