package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// DeleteKeys deletes every key that starts with prefix. It lists them all
// before deleting any, since deleting while scanning may skip keys.
func DeleteKeys(ctx context.Context, rdb *redis.Client, prefix string) error {
	var keys []string
	iter := rdb.Scan(ctx, 0, escapeGlob(prefix)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("scan keys %s*: %w", prefix, err)
	}
	const batch = 1000
	for len(keys) > 0 {
		n := min(batch, len(keys))
		if err := rdb.Del(ctx, keys[:n]...).Err(); err != nil {
			return fmt.Errorf("delete keys %s*: %w", prefix, err)
		}
		keys = keys[n:]
	}
	return nil
}

// escapeGlob quotes the characters SCAN MATCH treats specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
