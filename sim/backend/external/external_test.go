package external

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/conformance"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newBackend connects to $DATABASE_URL and $REDIS_URL, closed when the
// test ends. Without them the test skips, unless the external backend is
// required.
func newBackend(tb testing.TB) *Backend {
	tb.Helper()
	b, err := New(conformance.Context(tb), Config{
		PostgresURL: os.Getenv("DATABASE_URL"), RedisURL: os.Getenv("REDIS_URL")})
	if err != nil {
		conformance.Unavailable(tb, "external", err)
	}
	tb.Cleanup(func() { require.NoError(tb, b.Close()) })
	return b
}

func TestAMissingURLIsUnavailableNotBroken(t *testing.T) {
	_, err := New(t.Context(), Config{RedisURL: "redis://127.0.0.1:1/0"})
	require.ErrorIs(t, err, ErrNoURL)
	require.ErrorIs(t, err, backend.ErrUnavailable)
	_, err = New(t.Context(), Config{PostgresURL: "postgres://u@127.0.0.1:1/d"})
	require.ErrorIs(t, err, ErrNoURL)
}

func TestAServerThatDoesNotAnswerIsUnavailable(t *testing.T) {
	_, err := New(t.Context(), Config{ConnectTimeout: 2 * time.Second,
		PostgresURL: "postgres://u:secret@127.0.0.1:1/d?connect_timeout=1",
		RedisURL:    "redis://127.0.0.1:1/0"})
	require.ErrorIs(t, err, backend.ErrUnavailable)
	require.NotContains(t, err.Error(), "secret", "passwords stay out of errors")
}

func TestSearchPathGoesInTheOptionsBothClientsRead(t *testing.T) {
	got, err := withSearchPath("postgres://u:p@h:5432/d?sslmode=disable", "run_1")
	require.NoError(t, err)
	require.Equal(t, "postgres://u:p@h:5432/d?options=-csearch_path%3Drun_1&sslmode=disable", got)

	got, err = withSearchPath("postgres://h/d?options=-cwork_mem%3D8MB", "run_1")
	require.NoError(t, err)
	require.Contains(t, got, "options=-cwork_mem%3D8MB+-csearch_path%3Drun_1")

	got, err = withSearchPath("host=h dbname=d", "run_1")
	require.NoError(t, err)
	require.Equal(t, "host=h dbname=d options='-csearch_path=run_1'", got)
}

func TestRedactHidesPasswordsOfURLsAndDSNs(t *testing.T) {
	require.Equal(t, "postgres://u:xxxxx@h/d", RedactURL("postgres://u:pw@h/d"))
	require.Equal(t, "redis://:xxxxx@h:6379/0", RedactURL("redis://:pw@h:6379/0"))
	require.Equal(t, "host=h password=xxxxx user=u",
		RedactURL("host=h password=pw user=u"))
	require.Equal(t, "host=h password=xxxxx", RedactURL("host=h password='p w'"))
}

func TestConfigRefusesNegativeTimeouts(t *testing.T) {
	cfg := Config{PostgresURL: "x", RedisURL: "y", ConnectTimeout: -1}
	require.ErrorIs(t, cfg.withDefaults().validate(), errNegative)
}

func TestARunLivesInItsSchemaAndLeavesNothingWhenClosed(t *testing.T) {
	ctx := conformance.Context(t)
	b := newBackend(t)
	r, err := b.NewRun(ctx, backend.RunOptions{})
	require.NoError(t, err)
	schema := schemaName(r.ID)

	var current string
	require.NoError(t, r.DB.QueryRow(ctx, "SELECT current_schema()").Scan(&current))
	require.Equal(t, schema, current)
	require.Equal(t, "dedupsim:"+r.ID+":", r.KeyPrefix)
	require.NoError(t, r.Redis.Set(ctx, r.KeyPrefix+"k", "v", 0).Err())
	require.True(t, schemaExists(t, b, schema))

	require.NoError(t, r.Close(ctx))
	require.False(t, schemaExists(t, b, schema))
	n, err := b.redis.Exists(ctx, r.KeyPrefix+"k").Result()
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestAKeptRunStaysAndSaysHowToOpenIt(t *testing.T) {
	ctx := conformance.Context(t)
	b := newBackend(t)
	r, err := b.NewRun(ctx, backend.RunOptions{Keep: true})
	require.NoError(t, err)
	require.NoError(t, r.Redis.Set(ctx, r.KeyPrefix+"k", "v", 0).Err())
	require.NoError(t, r.Close(ctx))
	t.Cleanup(func() { b.dropRun(context.Background(), r.ID) })

	require.True(t, schemaExists(t, b, schemaName(r.ID)))
	require.Contains(t, r.KeepHint, "psql ")
	require.Contains(t, r.KeepHint, "search_path%3D"+schemaName(r.ID))
	require.Contains(t, r.KeepHint, r.KeyPrefix+"*")
	require.Contains(t, r.KeepHint, RedactURL(r.DSN))
	require.NotContains(t, r.KeepHint, ":"+passwordOf(r.DSN)+"@")
}

func TestCloseClosesTheRunsStillOpenAndRefusesNewOnes(t *testing.T) {
	ctx := conformance.Context(t)
	b := newBackend(t)
	r, err := b.NewRun(ctx, backend.RunOptions{})
	require.NoError(t, err)
	other := newBackend(t)

	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "a second Close")
	require.False(t, schemaExists(t, other, schemaName(r.ID)))
	_, err = b.NewRun(ctx, backend.RunOptions{})
	require.ErrorIs(t, err, ErrClosed)
}

func TestNewSweepsTheRunsOfDeadOwnersOnly(t *testing.T) {
	ctx := conformance.Context(t)
	b := newBackend(t)
	me, err := CurrentOwner()
	require.NoError(t, err)
	dead := me
	dead.PID = exitedPID(t)
	elsewhere := me
	elsewhere.Host = "another-host"

	ids := map[string]string{}
	for name, o := range map[string]Owner{"dead": dead, "live": me,
		"elsewhere": elsewhere} {
		ids[name] = fakeRun(t, b, o)
		t.Cleanup(func() { b.dropRun(context.Background(), ids[name]) })
	}

	swept := newBackend(t) // its New sweeps
	require.False(t, schemaExists(t, swept, schemaName(ids["dead"])))
	n, err := swept.redis.Exists(ctx, runPrefix(ids["dead"])+"k").Result()
	require.NoError(t, err)
	require.Zero(t, n, "the dead run's key")
	require.True(t, schemaExists(t, swept, schemaName(ids["live"])))
	require.True(t, schemaExists(t, swept, schemaName(ids["elsewhere"])))
}

func TestOwnersAreDeadOnlyWhenSurelySo(t *testing.T) {
	me, err := CurrentOwner()
	require.NoError(t, err)
	require.False(t, me.Dead())

	reused := me
	reused.Start++ // this pid, started at another time: an older process
	require.True(t, reused.Dead())
	rebooted := me
	rebooted.Boot = "another-boot"
	require.True(t, rebooted.Dead())
	elsewhere := me
	elsewhere.Host, elsewhere.PID = "another-host", exitedPID(t)
	require.False(t, elsewhere.Dead(), "another host's processes are not ours to judge")
}

// fakeRun makes a schema and a key as a run of owner o would leave them,
// and returns the run's id.
func fakeRun(tb testing.TB, b *Backend, o Owner) string {
	tb.Helper()
	ctx := conformance.Context(tb)
	id := randomID()
	saved := b.owner
	b.owner = o
	err := b.createSchema(ctx, id)
	b.owner = saved
	require.NoError(tb, err)
	require.NoError(tb, b.redis.Set(ctx, runPrefix(id)+"k", "v", time.Hour).Err())
	return id
}

// exitedPID returns the pid of a process that has exited.
func exitedPID(tb testing.TB) int {
	tb.Helper()
	cmd := exec.Command("true")
	require.NoError(tb, cmd.Run())
	return cmd.Process.Pid
}

func schemaExists(tb testing.TB, b *Backend, schema string) bool {
	tb.Helper()
	var found bool
	err := b.admin.QueryRow(conformance.Context(tb),
		"SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).
		Scan(&found)
	require.NoError(tb, err)
	return found
}

// passwordOf is the password in a postgres URL, or a string no hint
// contains.
func passwordOf(rawURL string) string {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil || cfg.Password == "" {
		return "\x00no password"
	}
	return cfg.Password
}

func TestParseOwnerReadsOnlyOurComments(t *testing.T) {
	o := Owner{Host: "h", Boot: "b", PID: 7, Start: 9}
	text, err := json.Marshal(o)
	require.NoError(t, err)
	got, ok := parseOwner(ownerTag + string(text))
	require.True(t, ok)
	require.Equal(t, o, got)
	for _, c := range []string{"", "someone's schema", ownerTag + "{", "run " + string(text)} {
		_, ok := parseOwner(c)
		require.False(t, ok, c)
	}
	require.NotContains(t, ownerTag, "'", "the tag goes into an SQL literal")
}
