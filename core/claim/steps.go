package claim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/store"
)

// The steps strategies are made of. Each passes its checkpoint before its
// I/O and records what it read or wrote right after.

// lookup reports whether the inbox already holds the message (claim.lookup).
func lookup(ctx context.Context, c *Call) (bool, error) {
	detail := "messages source_id=" + c.SourceID
	if err := c.Tracer.Enter(ctx, checkpoint.ClaimLookup, detail); err != nil {
		return false, err
	}
	found, err := store.MessageExists(ctx, c.DB, c.Inbox.ID, c.SourceID)
	c.Tracer.Done(ctx, checkpoint.ClaimLookup, detail, foundWord(found), err)
	return found, err
}

// check reports whether the claim key is set (claim.check).
func check(ctx context.Context, c *Call) (bool, error) {
	key := c.Key()
	if err := c.Tracer.Enter(ctx, checkpoint.ClaimCheck, "GET "+key); err != nil {
		return false, err
	}
	_, err := c.Redis.Get(ctx, key).Result()
	switch {
	case errors.Is(err, redis.Nil):
		c.Tracer.Done(ctx, checkpoint.ClaimCheck, "GET "+key, "nil", nil)
		return false, nil
	case err != nil:
		c.Tracer.Done(ctx, checkpoint.ClaimCheck, "GET "+key, "", err)
		return false, fmt.Errorf("check claim %s: %w", key, err)
	}
	c.Tracer.Done(ctx, checkpoint.ClaimCheck, "GET "+key, "set", nil)
	return true, nil
}

// mark sets the claim key for a day, unconditionally (claim.mark).
func mark(ctx context.Context, c *Call) error {
	cmd := fmt.Sprintf("SETEX %s %d", c.Key(), KeyTTL)
	if err := c.Tracer.Enter(ctx, checkpoint.ClaimMark, cmd); err != nil {
		return err
	}
	err := c.Redis.Set(ctx, c.Key(), c.Owner, KeyTTL*time.Second).Err()
	c.Tracer.Done(ctx, checkpoint.ClaimMark, cmd, "OK", err)
	if err != nil {
		return fmt.Errorf("mark claim %s: %w", c.Key(), err)
	}
	c.claimed = true
	return nil
}

// markIfAbsent claims the key atomically with SET NX EX (claim.mark).
func markIfAbsent(ctx context.Context, c *Call) (bool, error) {
	cmd := fmt.Sprintf("SET %s NX EX %d", c.Key(), KeyTTL)
	if err := c.Tracer.Enter(ctx, checkpoint.ClaimMark, cmd); err != nil {
		return false, err
	}
	ok, err := c.Redis.SetNX(ctx, c.Key(), c.Owner, KeyTTL*time.Second).Result()
	result := "nil"
	if ok {
		result = "OK"
	}
	c.Tracer.Done(ctx, checkpoint.ClaimMark, cmd, result, err)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", c.Key(), err)
	}
	c.claimed = ok
	return ok, nil
}

// unmark deletes the claim key whoever holds it (claim.clear).
func unmark(ctx context.Context, c *Call) error {
	cmd := "DEL " + c.Key()
	if err := c.Tracer.Enter(ctx, checkpoint.ClaimClear, cmd); err != nil {
		return err
	}
	n, err := c.Redis.Del(ctx, c.Key()).Result()
	c.Tracer.Done(ctx, checkpoint.ClaimClear, cmd, fmt.Sprintf("(integer) %d", n), err)
	if err != nil {
		return fmt.Errorf("clear claim %s: %w", c.Key(), err)
	}
	c.claimed = false
	return nil
}

// releaseScript deletes the key only while it still holds the caller's
// owner token, in one atomic step.
var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// ReleaseIfOwner deletes key only while it holds owner, in one atomic
// step, and returns how many keys it deleted.
func ReleaseIfOwner(ctx context.Context, rdb *redis.Client, key, owner string) (int64, error) {
	return releaseScript.Run(ctx, rdb, []string{key}, owner).Int64()
}

// release deletes the claim key if this call still owns it (claim.release).
func release(ctx context.Context, c *Call) error {
	if !c.claimed {
		return nil
	}
	cmd := "compare-and-delete " + c.Key()
	if err := c.Tracer.Enter(ctx, checkpoint.ClaimRelease, cmd); err != nil {
		return err
	}
	n, err := ReleaseIfOwner(ctx, c.Redis, c.Key(), c.Owner)
	c.Tracer.Done(ctx, checkpoint.ClaimRelease, cmd, fmt.Sprintf("(integer) %d", n), err)
	if err != nil {
		return fmt.Errorf("release claim %s: %w", c.Key(), err)
	}
	c.claimed = false
	return nil
}

func foundWord(found bool) string {
	if found {
		return "found"
	}
	return "none"
}
