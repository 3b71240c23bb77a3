package bench

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim/history"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// MeasureHook measures what one checkpoint costs a worker: a Tracer.Enter
// and its Done, with no hook as outside the simulator, and through a
// schedule.Controller that records the history and holds nothing. It takes
// a few seconds.
func MeasureHook() HookCost {
	none := testing.Benchmark(func(b *testing.B) { hookLoop(b, false) })
	rec := testing.Benchmark(func(b *testing.B) { hookLoop(b, true) })
	return HookCost{NilNs: nsPerOp(none), RecordingNs: nsPerOp(rec),
		RecordingAllocs: rec.AllocsPerOp(), RecordingBytes: rec.AllocedBytesPerOp(),
		RecordingCPUNs: cpuPerCheckpoint(rec.N)}
}

// cpuPerCheckpoint is the process CPU time of n checkpoints through a
// recording controller, per checkpoint, garbage collection included. On a
// machine shared with other work, wall time counts the time other
// processes ran; CPU time does not.
func cpuPerCheckpoint(n int) float64 {
	n = max(n, minCPUCheckpoints)
	var paused, at time.Duration
	runtime.GC()
	start := processCPU()
	passCheckpoints(n, true, func() { at = processCPU() },
		func() { paused += processCPU() - at })
	return float64(processCPU()-start-paused) / float64(n)
}

// minCPUCheckpoints keeps the CPU measurement long enough for the
// kernel's accounting to resolve it.
const minCPUCheckpoints = 100_000

// hookChunk is how many checkpoints one controller sees before the loop
// starts a fresh one, untimed: a run's history is about that long, and a
// history growing without end would measure the allocator instead.
const hookChunk = 4096

// hookLoop passes b.N checkpoints.
func hookLoop(b *testing.B, recording bool) {
	b.ReportAllocs()
	passCheckpoints(b.N, recording, b.StopTimer, b.StartTimer)
}

// passCheckpoints passes n checkpoints, each an Enter and a Done as a
// worker passes claim.mark. With recording, a fresh controller takes over
// every hookChunk checkpoints, made between pause and resume.
func passCheckpoints(n int, recording bool, pause, resume func()) {
	ctx := context.Background()
	tr := checkpoint.Tracer{Worker: "W1", Job: "wamid.bench00000001", Attempt: 1}
	const detail = "SET dedupsim:0123456789ab:MESSAGE_SOURCE_KEY::wamid.bench00000001" +
		" NX EX 86400"
	for i := range n {
		if recording && i%hookChunk == 0 {
			pause()
			tr.Hook = recordingController()
			resume()
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
