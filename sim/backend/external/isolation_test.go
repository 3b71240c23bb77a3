package external_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/sim/backend/conformance"
	"github.com/dedupsim/dedupsim/sim/backend/external"
)

// seedMark is the comment on the tables this test seeds, so that it never
// touches a table of the same name that is not its own.
const seedMark = "dedupsim isolation test seed"

// foreignKeys are keys someone else keeps on the same Redis: the flow's
// key names without a run's prefix (one with a source id the shipped
// scenarios use), and a prefix like a run's.
var foreignKeys = []string{
	"MESSAGE_SOURCE_KEY::x",
	"MESSAGE_SOURCE_KEY::wamid.C07-01",
	"CONVERSATION_LOCK::1::15550000002",
	"dedupsim:someone-else:MESSAGE_SOURCE_KEY::x",
}

// foreverKey is a foreign key without a TTL.
const foreverKey = "MESSAGE_SOURCE_KEY::forever"

func TestDataWithTheRunsNamesSurvivesEveryShippedScenario(t *testing.T) {
	pgURL, redisURL := os.Getenv("DATABASE_URL"), os.Getenv("REDIS_URL")
	b, err := external.New(conformance.Context(t), external.Config{
		PostgresURL: pgURL, RedisURL: redisURL})
	if err != nil {
		conformance.Unavailable(t, "external", err)
	}
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	ctx := conformance.Context(t)
	db := seedTables(t, pgURL)
	rdb := seedKeys(t, redisURL)
	before := snapshot(t, db)
	started := time.Now()

	conformance.Shipped(t, b)

	require.Equal(t, before, snapshot(t, db), "foreign rows changed")
	for _, k := range foreignKeys {
		v, err := rdb.Get(ctx, k).Result()
		require.NoError(t, err, "foreign key %s is gone", k)
		require.Equal(t, "theirs", v, k)
		ttl, err := rdb.PTTL(ctx, k).Result()
		require.NoError(t, err)
		// Real time passed; fast forwards must not have shortened it.
		require.Greater(t, ttl, time.Hour-time.Since(started)-time.Minute, k)
	}
	v, err := rdb.Get(ctx, foreverKey).Result()
	require.NoError(t, err)
	require.Equal(t, "theirs", v)
}

// seedTables creates public.messages and public.jobs with rows, and a
// schema named like a run's, each marked as this test's, and drops them
// when the test ends. Tables of those names that are not the test's skip
// it.
func seedTables(tb testing.TB, pgURL string) *pgxpool.Pool {
	tb.Helper()
	ctx := conformance.Context(tb)
	db, err := pgxpool.New(ctx, pgURL)
	require.NoError(tb, err)
	tb.Cleanup(db.Close)
	for _, name := range []string{"public.messages", "public.jobs"} {
		var comment *string
		err := db.QueryRow(ctx, `SELECT obj_description(to_regclass($1), 'pg_class')`,
			name).Scan(&comment)
		require.NoError(tb, err)
		if comment != nil && *comment != seedMark {
			tb.Skipf("%s exists and is not this test's: not touching it", name)
		}
	}
	_, err = db.Exec(ctx, seedSQL)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		_, err := db.Exec(context.Background(), `DROP TABLE public.messages;
			DROP TABLE public.jobs; DROP SCHEMA run_000000000000 CASCADE`)
		require.NoError(tb, err)
	})
	return db
}

const seedSQL = `
DROP TABLE IF EXISTS public.messages, public.jobs;
DROP SCHEMA IF EXISTS run_000000000000 CASCADE;
CREATE TABLE public.messages (id bigserial PRIMARY KEY, inbox_id bigint,
	source_id text, part int, content text);
COMMENT ON TABLE public.messages IS '` + seedMark + `';
INSERT INTO public.messages (inbox_id, source_id, part, content) VALUES
	(1, 'wamid.C07-01', 0, 'theirs'), (1, 'wamid.C07-01', 0, 'theirs too'),
	(1, 'x', 0, 'theirs');
CREATE TABLE public.jobs (id bigserial PRIMARY KEY, queue text, kind text,
	payload bytea, state text, attempts int, run_at timestamptz);
COMMENT ON TABLE public.jobs IS '` + seedMark + `';
INSERT INTO public.jobs (queue, kind, payload, state, attempts, run_at)
	VALUES ('default', 'message', 'x', 'pending', 0, now() - interval '1 day');
CREATE SCHEMA run_000000000000;
CREATE TABLE run_000000000000.messages (id bigserial PRIMARY KEY);
INSERT INTO run_000000000000.messages DEFAULT VALUES;
`

// snapshot reads every seeded row, as text.
func snapshot(tb testing.TB, db *pgxpool.Pool) []string {
	tb.Helper()
	ctx := conformance.Context(tb)
	var out []string
	for _, q := range []string{
		"SELECT m::text FROM public.messages m ORDER BY id",
		"SELECT j::text FROM public.jobs j ORDER BY id",
		"SELECT m::text FROM run_000000000000.messages m ORDER BY id",
	} {
		rows, err := db.Query(ctx, q)
		require.NoError(tb, err)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(tb, err, q)
		out = append(out, got...)
	}
	require.Len(tb, out, 5)
	return out
}

// seedKeys sets the foreign keys, each with an hour to live, and one
// without a TTL, and deletes them when the test ends. Keys of those names
// already there are not the test's: it skips rather than touch them.
func seedKeys(tb testing.TB, redisURL string) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(redisURL)
	require.NoError(tb, err)
	opts.DisableIdentity = true
	rdb := redis.NewClient(opts)
	tb.Cleanup(func() { require.NoError(tb, rdb.Close()) })
	ctx := conformance.Context(tb)
	all := append([]string{foreverKey}, foreignKeys...)
	n, err := rdb.Exists(ctx, all...).Result()
	require.NoError(tb, err)
	if n > 0 {
		tb.Skipf("keys named like %v exist and are not this test's", all)
	}
	for _, k := range foreignKeys {
		require.NoError(tb, rdb.Set(ctx, k, "theirs", time.Hour).Err())
	}
	require.NoError(tb, rdb.Set(ctx, foreverKey, "theirs", 0).Err())
	tb.Cleanup(func() {
		require.NoError(tb, rdb.Del(context.Background(), all...).Err())
	})
	return rdb
}
