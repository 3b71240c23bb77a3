package external

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedactURL returns a server URL or key=value DSN with its password
// replaced by "xxxxx", fit for logs and hints.
func RedactURL(s string) string {
	if !strings.Contains(s, "://") {
		return dsnPassword.ReplaceAllString(s, "${1}xxxxx")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// dsnPassword finds the password of a key=value DSN, quoted or not.
var dsnPassword = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// withSearchPath returns dsn with schema set as the search_path through
// the options parameter, which both pgx and libpq (psql) pass to the
// server. A URL's own options are kept, before it: the server applies the
// last setting of a name, so the schema wins. A key=value DSN gets an
// options key of its own, which replaces any it had.
func withSearchPath(dsn, schema string) (string, error) {
	opt := "-csearch_path=" + schema
	if !strings.Contains(dsn, "://") {
		return dsn + " options='" + opt + "'", nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse postgres URL: %w", err)
	}
	q := u.Query()
	if old := q.Get("options"); old != "" {
		opt = old + " " + opt
	}
	q.Set("options", opt)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// PingRedis connects to the Redis server at rawURL and sends PING.
func PingRedis(ctx context.Context, rawURL string) error {
	rdb, err := redisClient(rawURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis %s: %w", RedactURL(rawURL), err)
	}
	return nil
}

// redisClient connects to the Redis server at rawURL. It skips the
// handshake extras (client identity, maintenance notifications) that
// older servers do not know.
func redisClient(rawURL string) (*redis.Client, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse redis URL %s: %w", RedactURL(rawURL), err)
	}
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{
		Mode: maintnotifications.ModeDisabled,
	}
	return redis.NewClient(opts), nil
}
