package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ScanKeys lists every key that starts with prefix, all of them before
// anything changes them: changing keys while scanning may skip some.
func ScanKeys(ctx context.Context, rdb *redis.Client, prefix string) ([]string, error) {
	var keys []string
	iter := rdb.Scan(ctx, 0, escapeGlob(prefix)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("scan keys %s*: %w", prefix, err)
	}
	return keys, nil
}

// DeleteKeys deletes every key that starts with prefix, and no other.
func DeleteKeys(ctx context.Context, rdb *redis.Client, prefix string) error {
	keys, err := ScanKeys(ctx, rdb, prefix)
	if err != nil {
		return err
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
