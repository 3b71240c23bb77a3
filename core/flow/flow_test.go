package flow_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// recorder is a hook that notes every checkpoint entered and can fail one.
type recorder struct {
	mu     sync.Mutex
	passed []checkpoint.Name
	failAt checkpoint.Name
	fail   error
}

func (r *recorder) Enter(_ context.Context, p checkpoint.Point) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.passed = append(r.passed, p.Name)
	if p.Name == r.failAt {
		return r.fail
	}
	return nil
}

func (r *recorder) Done(context.Context, checkpoint.Point, checkpoint.Outcome) {}

// worker returns a worker on a fresh run and a job for one text message.
func worker(tb testing.TB, strategy string, hook checkpoint.Hook) (*flow.Worker, flow.Job) {
	tb.Helper()
	run := testenv.Run(tb)
	ctx := context.Background()
	in, err := store.CreateInbox(ctx, run.DB, "support", "200")
	require.NoError(tb, err)
	st, err := claim.New(strategy)
	require.NoError(tb, err)
	require.NoError(tb, st.Setup(ctx, run.DB))
	w := &flow.Worker{Name: "W1", DB: run.DB, Redis: run.Redis,
		KeyPrefix: run.KeyPrefix, Strategy: st, Hook: hook}
	msg := meta.Message{ID: "wamid.F1", PhoneNumberID: "200", From: "555",
		ContactName: "Alpha", Type: "text",
		Parts: []meta.Part{{Index: 0, Content: "hi", ContentType: "text"}}}
	return w, flow.Job{Message: msg, Inbox: in, Attempt: 1}
}

func ctx(tb testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return c
}

func TestEachStrategyPassesExactlyTheCheckpointsItDeclares(t *testing.T) {
	for _, name := range claim.Names() {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			w, job := worker(t, name, rec)
			res, err := w.Process(ctx(t), job)
			require.NoError(t, err)
			require.Equal(t, flow.Stored, res.Outcome)

			want := flow.Checkpoints(w.Strategy, false, false, false)
			want = want[1:] // job.fetch belongs to the queue, not to Process
			require.ElementsMatch(t, want, rec.passed)
		})
	}
}

func TestASecondCopyIsADuplicateUnderAnAtomicGuard(t *testing.T) {
	w, job := worker(t, "setnx", nil)
	res, err := w.Process(ctx(t), job)
	require.NoError(t, err)
	require.Equal(t, flow.Stored, res.Outcome)
	res, err = w.Process(ctx(t), job)
	require.NoError(t, err)
	require.Equal(t, flow.Duplicate, res.Outcome)
}

func TestAnErrorReleasesTheClaimButACrashLeavesIt(t *testing.T) {
	for name, fail := range map[string]error{
		"error": errors.New("boom"), "crash": checkpoint.ErrCrash,
	} {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{failAt: checkpoint.MessageInsert, fail: fail}
			w, job := worker(t, "setnx-release", rec)
			_, err := w.Process(ctx(t), job)
			require.ErrorIs(t, err, fail)
			left := w.Redis.Exists(ctx(t), w.KeyPrefix+"MESSAGE_SOURCE_KEY::wamid.F1").Val()
			if fail == checkpoint.ErrCrash {
				require.Equal(t, int64(1), left, "a dead process releases nothing")
			} else {
				require.Zero(t, left, "the worker's own error handling releases")
			}
		})
	}
}

func TestAMessageWithoutPartsIsRefused(t *testing.T) {
	w, job := worker(t, "none", nil)
	job.Message.Parts = nil
	_, err := w.Process(ctx(t), job)
	require.ErrorIs(t, err, flow.ErrNoParts)
}
