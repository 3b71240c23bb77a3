package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/sim/backend"
)

// processor is one worker of a cell: the flow's or the floor's.
type processor interface {
	process(ctx context.Context, job flow.Job) (jobTiming, error)
}

// flowProcessor drives a flow.Worker, timing its steps with its hook.
type flowProcessor struct {
	w    *flow.Worker
	hook *phaseHook
}

// process runs one job. A webhook that failed fails the job here, as it
// does the floor's, though the flow keeps the stored rows.
func (p *flowProcessor) process(ctx context.Context, job flow.Job) (jobTiming, error) {
	start := time.Now()
	res, err := p.w.Process(ctx, job)
	if err == nil {
		err = res.DispatchErr
	}
	return p.hook.take(time.Since(start)), err
}

// floorProcessor drives a floorWorker.
type floorProcessor struct{ f *floorWorker }

func (p *floorProcessor) process(ctx context.Context, job flow.Job) (jobTiming, error) {
	var t jobTiming
	start := time.Now()
	_, err := p.f.process(ctx, job, &t)
	t.total = time.Since(start)
	return t, err
}

// cellRun is one repeat of one cell: a fresh database and key space, a
// webhook sink, and the workers.
type cellRun struct {
	kind, strategy string
	workers        int
	run            *backend.Run
	inbox          store.Inbox
	sink           *sink
	client         *http.Client
}

// runOnce runs one repeat of a flow or floor cell and records its job
// timings in lat.
func (b *bencher) runOnce(ctx context.Context, kind, strategy string, workers int,
	lat *latencies) (Sample, error) {
	c, err := b.prepare(ctx, kind, strategy, workers)
	if err != nil {
		return Sample{}, err
	}
	defer c.close(ctx)
	procs, err := c.processors(b.body)
	if err != nil {
		return Sample{}, err
	}

	m := startMeter()
	start := time.Now()
	var stopAt time.Time
	if b.cfg.Duration > 0 {
		stopAt = start.Add(b.cfg.Duration)
	}
	f := newFeeder(b.work, c.inbox, stopAt)
	done := drive(ctx, f, procs, lat)
	elapsed := time.Since(start)
	u := m.finish()
	if err := ctx.Err(); err != nil {
		return Sample{}, fmt.Errorf("%s: %w", kind, err)
	}

	s := newSample(done.jobs, elapsed, u)
	s.Correctness, err = c.count(ctx, b.work.messages[:f.fed])
	s.Errors, s.FirstError = done.errors, done.firstError
	return s, err
}

// prepare makes the run, sets the strategy up and starts the sink.
func (b *bencher) prepare(ctx context.Context, kind, strategy string,
	workers int) (*cellRun, error) {
	run, err := b.backend.NewRun(ctx, backend.RunOptions{MaxConns: int32(workers + 4)})
	if err != nil {
		return nil, fmt.Errorf("prepare run: %w", err)
	}
	c := &cellRun{kind: kind, strategy: strategy, workers: workers, run: run,
		client: newHTTPClient(workers)}
	if err := c.setUp(ctx); err != nil {
		c.close(ctx)
		return nil, err
	}
	return c, nil
}

func (c *cellRun) setUp(ctx context.Context) error {
	st, err := claim.New(c.strategy)
	if err != nil {
		return err
	}
	if err := st.Setup(ctx, c.run.DB); err != nil {
		return fmt.Errorf("set up strategy %s: %w", c.strategy, err)
	}
	c.inbox, err = store.CreateInbox(ctx, c.run.DB, "bench", phoneNumberID)
	if err != nil {
		return err
	}
	c.sink, err = startSink(ctx)
	return err
}

// close stops the sink and drops the run's data.
func (c *cellRun) close(ctx context.Context) {
	if c.sink != nil {
		_ = c.sink.close()
	}
	c.client.CloseIdleConnections()
	_ = c.run.Close(context.WithoutCancel(ctx))
}

// processors builds the cell's workers.
func (c *cellRun) processors(body []byte) ([]processor, error) {
	procs := make([]processor, c.workers)
	for i := range procs {
		name := "W" + strconv.Itoa(i+1)
		p, err := c.processor(name, body)
		if err != nil {
			return nil, err
		}
		procs[i] = p
	}
	return procs, nil
}

func (c *cellRun) processor(name string, body []byte) (processor, error) {
	if c.kind == KindFloor {
		pl, ok := plans[c.strategy]
		if !ok {
			return nil, fmt.Errorf("%w %q", ErrNoFloor, c.strategy)
		}
		return &floorProcessor{&floorWorker{name: name, db: c.run.DB,
			rdb: c.run.Redis, keyPrefix: c.run.KeyPrefix,
			namespace: namespace(c.run.ID), plan: pl, client: c.client,
			url: c.sink.url, body: body}}, nil
	}
	st, err := claim.New(c.strategy)
	if err != nil {
		return nil, err
	}
	d, err := dispatch.NewDirect(dispatch.Config{Client: c.client,
		Subscriptions: []dispatch.Subscription{{URL: c.sink.url, Secret: secret}}})
	if err != nil {
		return nil, fmt.Errorf("set up dispatch: %w", err)
	}
	hook := newPhaseHook()
	return &flowProcessor{hook: hook, w: &flow.Worker{Name: name, DB: c.run.DB,
		Redis: c.run.Redis, KeyPrefix: c.run.KeyPrefix,
		Namespace: namespace(c.run.ID), Strategy: st, Dispatcher: d,
		Hook: hook}}, nil
}

// secret signs the flow's webhooks; the sink does not check it.
const secret = "whsec_ZGVkdXBzaW0tYmVuY2gtc2VjcmV0"

// count reads what the database holds for the messages fed.
func (c *cellRun) count(ctx context.Context, fed []meta.Message) (Correctness, error) {
	parts, err := store.CountParts(ctx, c.run.DB)
	if err != nil {
		return Correctness{}, err
	}
	out := Correctness{Messages: len(fed), Webhooks: int(c.sink.posts.Load())}
	stored := make(map[string]bool, len(parts))
	for _, p := range parts {
		stored[p.SourceID] = true
		out.Duplicates += max(p.Rows-1, 0)
	}
	for _, m := range fed {
		if !stored[m.ID] {
			out.Lost++
		}
	}
	return out, nil
}

// driven is what the workers of one run did.
type driven struct {
	jobs, errors int
	firstError   string
}

// drive runs the feeder and one goroutine per processor until the jobs
// run out, and waits for them all.
func drive(ctx context.Context, f *feeder, procs []processor, lat *latencies) driven {
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		out driven
	)
	wg.Go(func() { f.run(ctx) })
	for _, p := range procs {
		wg.Go(func() {
			jobs, errs, first := work(ctx, p, f.jobs, lat)
			mu.Lock()
			defer mu.Unlock()
			out.jobs += jobs
			out.errors += errs
			if out.firstError == "" {
				out.firstError = first
			}
		})
	}
	wg.Wait()
	return out
}

// work is one worker's loop.
func work(ctx context.Context, p processor, jobs <-chan flow.Job,
	lat *latencies) (n, errs int, first string) {
	for job := range jobs {
		t, err := p.process(ctx, job)
		n++
		if err != nil {
			errs++
			if first == "" {
				first = err.Error()
			}
			continue
		}
		lat.add(t)
	}
	return n, errs, first
}

func newSample(jobs int, elapsed time.Duration, u usage) Sample {
	s := Sample{Deliveries: jobs, Elapsed: elapsed.Seconds(), CPU: u.cpu.Seconds(),
		PeakRSS: u.peakRSS, PeakHeap: u.peakHeap}
	if elapsed > 0 {
		s.Throughput = float64(jobs) / elapsed.Seconds()
	}
	return s
}

// namespace hashes a run id to the first key of its advisory locks, as
// the simulator does.
func namespace(runID string) int32 {
	h := fnv.New32a()
	h.Write([]byte(runID))
	return int32(h.Sum32())
}

// webhookBody encodes a webhook of the size the flow sends, for the
// floor to post.
func webhookBody(w *workload) ([]byte, error) {
	m := w.messages[0]
	b, err := json.Marshal(dispatch.Event{Type: dispatch.EventMessageCreated,
		ID: 1, SourceID: m.ID, Content: m.Parts[0].Content,
		ContentType: m.Parts[0].ContentType, MessageType: "incoming",
		CreatedAt: time.Now(), Account: dispatch.Account{ID: 1},
		Inbox:        dispatch.Inbox{ID: 1, Name: "bench", PhoneNumberID: phoneNumberID},
		Sender:       dispatch.Sender{ID: 1, Name: m.ContactName, WaID: m.From},
		Conversation: dispatch.Conversation{ID: 1, Status: "open", InboxID: 1}})
	if err != nil {
		return nil, fmt.Errorf("encode webhook body: %w", err)
	}
	return b, nil
}
