package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/sim/backend"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// rig is one kind of worker for one strategy on a fresh run of the test
// binary's backend.
type rig struct {
	cell  *cellRun
	procs []processor
	// log records what the workers send when the rig records.
	log *sendLog
}

// newRig sets a cell up on a fresh run. With record, every SQL statement
// and Redis command the workers send afterwards is logged.
func newRig(tb testing.TB, kind, strategy string, workers int, record bool) *rig {
	tb.Helper()
	run := testenv.Run(tb)
	r := &rig{}
	if record {
		r.log = &sendLog{prefix: run.KeyPrefix}
		run = r.log.wrap(tb, run)
	}
	r.cell = &cellRun{kind: kind, strategy: strategy, workers: workers, run: run,
		client: newHTTPClient(workers)}
	require.NoError(tb, r.cell.setUp(tb.Context()), "set up %s %s", kind, strategy)
	tb.Cleanup(func() { r.cell.close(context.Background()) })
	w, err := newWorkload(Config{Deliveries: 1, Senders: 1, Seed: 1}.withDefaults())
	require.NoError(tb, err)
	body, err := webhookBody(w)
	require.NoError(tb, err)
	r.procs, err = r.cell.processors(body)
	require.NoError(tb, err)
	if r.log != nil {
		r.log.reset() // the set-up's statements are not the strategy's
	}
	return r
}

// job returns the flow.Job of message i on the rig's inbox.
func (r *rig) job(tb testing.TB, i int) flow.Job {
	tb.Helper()
	m, err := buildMessage(i, i%DefaultSenders)
	require.NoError(tb, err)
	return flow.Job{Message: m, Inbox: r.cell.inbox, Attempt: 1}
}

// sendLog records the SQL statements and Redis commands of a run, in
// order, with the run's key prefix and owner tokens taken out so that two
// runs can be compared.
type sendLog struct {
	prefix string
	mu     sync.Mutex
	lines  []string
}

// wrap returns a run whose pool and Redis client log to l. The run's own
// clients stay as they were, and are closed by the run.
func (l *sendLog) wrap(tb testing.TB, run *backend.Run) *backend.Run {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(run.DSN)
	require.NoError(tb, err)
	cfg.ConnConfig.Tracer = l
	pool, err := pgxpool.NewWithConfig(tb.Context(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	rdb := redis.NewClient(run.Redis.Options())
	tb.Cleanup(func() { _ = rdb.Close() })
	// Load the floor's script where both kinds find it, so that neither
	// sends the EVAL that follows a first EVALSHA: a different script in
	// the flow still shows as an EVAL of its own.
	require.NoError(tb, releaseScript.Load(tb.Context(), rdb).Err())
	rdb.AddHook(l)
	return &backend.Run{ID: run.ID, DB: pool, DSN: run.DSN, Redis: rdb,
		KeyPrefix: run.KeyPrefix}
}

func (l *sendLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

func (l *sendLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = nil
}

func (l *sendLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// TraceQueryStart implements pgx.QueryTracer.
func (l *sendLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn,
	d pgx.TraceQueryStartData) context.Context {
	l.add(fmt.Sprintf("sql %s %v", strings.Join(strings.Fields(d.SQL), " "), d.Args))
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (l *sendLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// DialHook implements redis.Hook.
func (l *sendLog) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (l *sendLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		var args []string
		for _, a := range cmd.Args() {
			s := fmt.Sprint(a)
			if strings.Contains(s, "/") {
				s = "<owner>"
			}
			args = append(args, strings.Replace(s, l.prefix, "<prefix>", 1))
		}
		l.add("redis " + strings.Join(args, " "))
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (l *sendLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			l.add(fmt.Sprintf("redis pipeline %s", c.Name()))
		}
		return next(ctx, cmds)
	}
}
