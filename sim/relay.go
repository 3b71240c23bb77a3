package sim

import (
	"context"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/sim/clock"
	"github.com/dedupsim/dedupsim/sim/history"
)

// relayName names the outbox relay in checkpoints and faults.
const relayName = "relay"

// relay delivers outbox events until ctx ends. A pass that fails (the
// relay crashed between sending and marking, say) is noted, and the relay
// goes on as a restarted process would.
func (e *runEnv) relay(ctx context.Context) {
	r := &dispatch.Relay{DB: e.run.DB, Sender: e.disp,
		Tracer: checkpoint.Tracer{Hook: e.ctl, Worker: relayName}}
	for ctx.Err() == nil {
		// As a worker's lease: a jump under way ends before the pass
		// starts, and one that starts later sees the relay busy.
		e.jumpMu.RLock()
		e.relayBusy.Store(true)
		e.jumpMu.RUnlock()
		sent, err := r.Once(ctx)
		e.relayBusy.Store(false)
		if err != nil && ctx.Err() == nil {
			e.rec.Add(history.Event{Worker: relayName, Phase: history.Note,
				Result: "pass failed; the relay restarts", Err: err.Error()})
		}
		if !sent && clock.Sleep(ctx, poll) != nil {
			return
		}
	}
}

// drainOutbox waits, once every worker is done, until the relay has
// marked every event sent, or ctx ends.
func (e *runEnv) drainOutbox(ctx context.Context) {
	if e.cfg.Dispatch != "outbox" {
		return
	}
	for ctx.Err() == nil {
		n, err := store.CountUnsent(ctx, e.run.DB)
		if err != nil || n == 0 {
			return
		}
		if clock.Sleep(ctx, 5*time.Millisecond) != nil {
			return
		}
	}
}
