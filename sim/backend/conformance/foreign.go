package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// Foreign is data someone else keeps on the servers a backend shares,
// named as a run's own data is: a run must leave it exactly as it was.
type Foreign struct {
	db      *pgxpool.Pool
	rdb     *redis.Client
	rows    []string
	started time.Time
}

// foreignMark is the comment on the tables Foreign seeds, so that it never
// touches a table of the same name that is not its own.
const foreignMark = "dedupsim conformance: foreign data"

// foreignKeys are the keys Foreign sets, each for an hour: the flow's key
// names without a run's prefix (one with a source id the shipped
// scenarios use), and a prefix like a run's.
var foreignKeys = []string{
	"MESSAGE_SOURCE_KEY::x",
	"MESSAGE_SOURCE_KEY::wamid.C07-01",
	"CONVERSATION_LOCK::1::15550000002",
	"dedupsim:someone-else:MESSAGE_SOURCE_KEY::x",
}

// foreverKey is a foreign key without a TTL.
const foreverKey = "MESSAGE_SOURCE_KEY::forever"

// SeedForeign puts foreign data on the servers at pgURL and redisURL: the
// tables public.messages and public.jobs with rows, a schema named like a
// run's with a table, and the flow's Redis keys without a run's prefix.
// It removes them when the test ends. Where tables or keys of those names
// exist already, and are not its own, the test skips rather than touch
// them.
func SeedForeign(tb testing.TB, pgURL, redisURL string) *Foreign {
	tb.Helper()
	f := &Foreign{started: time.Now()}
	f.seedTables(tb, pgURL)
	f.seedKeys(tb, redisURL)
	f.rows = f.snapshot(tb)
	return f
}

// Check requires that the foreign data is as SeedForeign left it: the
// same rows, the same keys and values, and TTLs shortened by no more than
// the real time that passed (so no fast forward reached them).
func (f *Foreign) Check(tb testing.TB) {
	tb.Helper()
	ctx := Context(tb)
	require.Equal(tb, f.rows, f.snapshot(tb), "foreign rows changed")
	for _, k := range append([]string{foreverKey}, foreignKeys...) {
		v, err := f.rdb.Get(ctx, k).Result()
		require.NoError(tb, err, "foreign key %s is gone", k)
		require.Equal(tb, "theirs", v, k)
	}
	for _, k := range foreignKeys {
		ttl, err := f.rdb.PTTL(ctx, k).Result()
		require.NoError(tb, err)
		require.Greater(tb, ttl, time.Hour-time.Since(f.started)-time.Minute,
			"foreign key %s lost time", k)
	}
	ttl, err := f.rdb.PTTL(ctx, foreverKey).Result()
	require.NoError(tb, err)
	require.Equal(tb, time.Duration(-1), ttl, "foreign key %s got a TTL", foreverKey)
}

func (f *Foreign) seedTables(tb testing.TB, pgURL string) {
	tb.Helper()
	ctx := Context(tb)
	db, err := pgxpool.New(ctx, pgURL)
	require.NoError(tb, err)
	tb.Cleanup(db.Close)
	f.db = db
	f.lock(tb)
	for _, name := range []string{"public.messages", "public.jobs"} {
		var comment *string
		err := db.QueryRow(ctx,
			`SELECT obj_description(to_regclass($1), 'pg_class')`, name).
			Scan(&comment)
		require.NoError(tb, err)
		if comment != nil && *comment != foreignMark {
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
}

// foreignLock is the advisory lock that keeps two tests on one server
// from seeding the foreign data at once.
const foreignLock = 0x64656475 // "dedu"

// lock takes foreignLock on a connection of its own until the test ends:
// a second test that seeds waits for the first to have removed its data.
func (f *Foreign) lock(tb testing.TB) {
	tb.Helper()
	ctx := Context(tb)
	conn, err := f.db.Acquire(ctx)
	require.NoError(tb, err)
	_, err = conn.Exec(ctx, "SELECT pg_advisory_lock($1)", foreignLock)
	if err != nil {
		conn.Release()
	}
	require.NoError(tb, err, "wait for another test's foreign data to go")
	tb.Cleanup(func() {
		_, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)",
			foreignLock)
		conn.Release()
		require.NoError(tb, err)
	})
}

const seedSQL = `
DROP TABLE IF EXISTS public.messages, public.jobs;
DROP SCHEMA IF EXISTS run_000000000000 CASCADE;
CREATE TABLE public.messages (id bigserial PRIMARY KEY, inbox_id bigint,
	source_id text, part int, content text);
COMMENT ON TABLE public.messages IS '` + foreignMark + `';
INSERT INTO public.messages (inbox_id, source_id, part, content) VALUES
	(1, 'wamid.C07-01', 0, 'theirs'), (1, 'wamid.C07-01', 0, 'theirs too'),
	(1, 'x', 0, 'theirs');
CREATE TABLE public.jobs (id bigserial PRIMARY KEY, queue text, kind text,
	payload bytea, state text, attempts int, run_at timestamptz);
COMMENT ON TABLE public.jobs IS '` + foreignMark + `';
INSERT INTO public.jobs (queue, kind, payload, state, attempts, run_at)
	VALUES ('default', 'message', 'x', 'pending', 0, now() - interval '1 day');
CREATE SCHEMA run_000000000000;
CREATE TABLE run_000000000000.messages (id bigserial PRIMARY KEY);
INSERT INTO run_000000000000.messages DEFAULT VALUES;
`

// snapshot reads every seeded row, as text.
func (f *Foreign) snapshot(tb testing.TB) []string {
	tb.Helper()
	ctx := Context(tb)
	var out []string
	for _, q := range []string{
		"SELECT m::text FROM public.messages m ORDER BY id",
		"SELECT j::text FROM public.jobs j ORDER BY id",
		"SELECT m::text FROM run_000000000000.messages m ORDER BY id",
	} {
		rows, err := f.db.Query(ctx, q)
		require.NoError(tb, err)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(tb, err, q)
		out = append(out, got...)
	}
	require.Len(tb, out, 5)
	return out
}

func (f *Foreign) seedKeys(tb testing.TB, redisURL string) {
	tb.Helper()
	opts, err := redis.ParseURL(redisURL)
	require.NoError(tb, err)
	opts.DisableIdentity = true
	f.rdb = redis.NewClient(opts)
	tb.Cleanup(func() { require.NoError(tb, f.rdb.Close()) })
	ctx := Context(tb)
	all := append([]string{foreverKey}, foreignKeys...)
	n, err := f.rdb.Exists(ctx, all...).Result()
	require.NoError(tb, err)
	if n > 0 {
		tb.Skipf("keys named like %v exist and are not this test's", all)
	}
	for _, k := range foreignKeys {
		require.NoError(tb, f.rdb.Set(ctx, k, "theirs", time.Hour).Err())
	}
	require.NoError(tb, f.rdb.Set(ctx, foreverKey, "theirs", 0).Err())
	tb.Cleanup(func() {
		require.NoError(tb, f.rdb.Del(context.Background(), all...).Err())
	})
}
