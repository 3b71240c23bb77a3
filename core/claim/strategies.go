package claim

import (
	"context"

	"github.com/dedupsim/dedupsim/core/checkpoint"
)

// None stores every copy: no guard at all.
type None struct{ passive }

// Name implements Strategy.
func (None) Name() string { return "none" }

// Checkpoints implements Strategy.
func (None) Checkpoints() []checkpoint.Name { return nil }

// LookupOnly looks the message up in the database and stores it when it is
// not there. A copy whose twin has not committed yet finds nothing.
type LookupOnly struct{ passive }

// Name implements Strategy.
func (LookupOnly) Name() string { return "lookup-only" }

// Checkpoints implements Strategy.
func (LookupOnly) Checkpoints() []checkpoint.Name {
	return []checkpoint.Name{checkpoint.ClaimLookup}
}

// Claim implements Strategy.
func (LookupOnly) Claim(ctx context.Context, c *Call) (bool, error) {
	found, err := lookup(ctx, c)
	return !found && err == nil, err
}

// Legacy is the original guard: a database lookup, a Redis GET of the
// claim key, a SETEX of it for a day, and a DEL inside the transaction
// before COMMIT. Checking and setting are separate steps.
type Legacy struct{ passive }

// Name implements Strategy.
func (Legacy) Name() string { return "legacy" }

// Checkpoints implements Strategy.
func (Legacy) Checkpoints() []checkpoint.Name {
	return []checkpoint.Name{checkpoint.ClaimLookup, checkpoint.ClaimCheck,
		checkpoint.ClaimMark, checkpoint.ClaimClear}
}

// Claim implements Strategy.
func (Legacy) Claim(ctx context.Context, c *Call) (bool, error) {
	if found, err := lookup(ctx, c); found || err != nil {
		return false, err
	}
	if set, err := check(ctx, c); set || err != nil {
		return false, err
	}
	return true, mark(ctx, c)
}

// BeforeCommit implements Strategy: the key is deleted before the row is
// visible to other transactions.
func (Legacy) BeforeCommit(ctx context.Context, c *Call) error {
	return unmark(ctx, c)
}

// SetNX is the first fix: a database lookup, then one atomic SET NX EX of
// the claim key, never released. A worker that fails after claiming leaves
// the key behind, and every retry is refused until it expires.
type SetNX struct{ passive }

// Name implements Strategy.
func (SetNX) Name() string { return "setnx" }

// Checkpoints implements Strategy.
func (SetNX) Checkpoints() []checkpoint.Name {
	return []checkpoint.Name{checkpoint.ClaimLookup, checkpoint.ClaimMark}
}

// Claim implements Strategy.
func (SetNX) Claim(ctx context.Context, c *Call) (bool, error) {
	if found, err := lookup(ctx, c); found || err != nil {
		return false, err
	}
	return markIfAbsent(ctx, c)
}

// SetNXRelease claims like SetNX and releases the claim, only while it
// still owns it, after COMMIT or when the job fails.
type SetNXRelease struct{ passive }

// Name implements Strategy.
func (SetNXRelease) Name() string { return "setnx-release" }

// Checkpoints implements Strategy.
func (SetNXRelease) Checkpoints() []checkpoint.Name {
	return []checkpoint.Name{checkpoint.ClaimLookup, checkpoint.ClaimMark,
		checkpoint.ClaimRelease}
}

// Claim implements Strategy.
func (SetNXRelease) Claim(ctx context.Context, c *Call) (bool, error) {
	if found, err := lookup(ctx, c); found || err != nil {
		return false, err
	}
	return markIfAbsent(ctx, c)
}

// AfterCommit implements Strategy.
func (SetNXRelease) AfterCommit(ctx context.Context, c *Call) error {
	return release(ctx, c)
}

// Abandon implements Strategy.
func (SetNXRelease) Abandon(ctx context.Context, c *Call) error {
	return release(ctx, c)
}
