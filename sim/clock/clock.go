// Package clock is the simulator's injected clock. It runs with real time
// and can be moved ahead, so that a scenario that waits a day for a key to
// expire, or seconds for a retry, runs in milliseconds.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock is real time plus an offset that only grows. It is safe for
// concurrent use.
type Clock struct {
	mu        sync.Mutex
	offset    time.Duration
	onAdvance func(ctx context.Context, d time.Duration) error
}

// New returns a clock at real time. onAdvance, if set, is told of every
// advance, so that the servers' own notion of time can follow (miniredis
// time, or the TTLs of the run's keys on a real Redis).
func New(onAdvance func(ctx context.Context, d time.Duration) error) *Clock {
	return &Clock{onAdvance: onAdvance}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Offset is how far the clock has been moved ahead of real time.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Advance moves the clock ahead by d; a d of zero or less does nothing.
func (c *Clock) Advance(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
	if c.onAdvance != nil {
		return c.onAdvance(ctx, d)
	}
	return nil
}

// AdvanceTo moves the clock to t if t is ahead of it.
func (c *Clock) AdvanceTo(ctx context.Context, t time.Time) error {
	return c.Advance(ctx, t.Sub(c.Now()))
}

// Sleep waits for d of real time, or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
