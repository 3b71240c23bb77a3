package schedule

import (
	"sync"

	"github.com/dedupsim/dedupsim/core/checkpoint"
)

// barrier is one Barrier's state during a run. It opens once, when every
// participant has arrived or finished, and never closes again.
type barrier struct {
	at map[string]checkpoint.Name

	mu      sync.Mutex
	arrived map[string]bool // arrived or finished
	blocked map[string]bool // waiting in Postgres for another's lock
	open    chan struct{}
	opened  bool
}

func newBarrier(b Barrier) *barrier {
	return &barrier{at: b.At, arrived: map[string]bool{}, blocked: map[string]bool{},
		open: make(chan struct{})}
}

// arrive records worker at n. It returns the channel to wait on and true
// when the barrier waits for this worker here and has not seen it yet.
func (b *barrier) arrive(worker string, n checkpoint.Name) (<-chan struct{}, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if at, ok := b.at[worker]; !ok || at != n || b.arrived[worker] {
		return nil, false
	}
	b.mark(worker)
	return b.open, true
}

// finish counts a worker that will not come as arrived.
func (b *barrier) finish(worker string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.at[worker]; ok && !b.arrived[worker] {
		b.mark(worker)
	}
}

// block counts a worker blocked on another worker's lock as waiting, so
// that the barrier cannot deadlock on it; unblocking takes that back
// unless the barrier has opened.
func (b *barrier) block(worker string, blocked bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.at[worker]; !ok {
		return
	}
	b.blocked[worker] = blocked
	b.check()
}

// mark must be called with b.mu held.
func (b *barrier) mark(worker string) {
	b.arrived[worker] = true
	b.check()
}

// check opens the barrier once every participant has arrived, finished
// or is blocked. It must be called with b.mu held.
func (b *barrier) check() {
	if b.opened {
		return
	}
	for w := range b.at {
		if !b.arrived[w] && !b.blocked[w] {
			return
		}
	}
	b.opened = true
	close(b.open)
}
