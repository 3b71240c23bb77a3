package external

import (
	"github.com/dedupsim/dedupsim/sim/backend"

	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// batch is how many keys one DEL or one script call takes.
const batch = 500

// errNegativeDuration is returned by FastForward for a negative d.
var errNegativeDuration = errors.New("time does not run backwards")

// shorten takes ARGV[1] milliseconds off the TTL of each of its keys,
// deleting those left with none; keys without a TTL, or gone, are
// skipped. It returns how many keys it changed.
var shorten = redis.NewScript(`
local d = tonumber(ARGV[1])
local n = 0
for _, k in ipairs(KEYS) do
  local ttl = redis.call('PTTL', k)
  if ttl > 0 then
    if ttl - d <= 0 then
      redis.call('DEL', k)
    else
      redis.call('PEXPIRE', k, ttl - d)
    end
    n = n + 1
  end
end
return n
`)

// fastForward shortens the TTL of every key under prefix by d, as if d
// had passed for those keys only.
func fastForward(ctx context.Context, rdb *redis.Client, prefix string,
	d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("fast forward %s: %w", d, errNegativeDuration)
	}
	ms := d.Milliseconds()
	if ms == 0 {
		return nil
	}
	keys, err := backend.ScanKeys(ctx, rdb, prefix)
	if err != nil {
		return fmt.Errorf("fast forward: %w", err)
	}
	for len(keys) > 0 {
		n := min(batch, len(keys))
		if err := shorten.Run(ctx, rdb, keys[:n], ms).Err(); err != nil {
			return fmt.Errorf("fast forward keys %s*: %w", prefix, err)
		}
		keys = keys[n:]
	}
	return nil
}
