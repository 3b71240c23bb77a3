// Package sim is the simulation engine: it runs a scenario's workers
// through the reference flow against a backend's Redis and Postgres, holds
// and releases them at checkpoints, and judges what each run left behind.
package sim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/queue"
	"github.com/dedupsim/dedupsim/core/store"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/clock"
	"github.com/dedupsim/dedupsim/sim/history"
	"github.com/dedupsim/dedupsim/sim/media"
	"github.com/dedupsim/dedupsim/sim/schedule"
	"github.com/dedupsim/dedupsim/sim/subscriber"
)

// ErrRefused is wrapped by the error of a scenario the backend will not
// run, such as a Redis restart on servers the user shares.
var ErrRefused = errors.New("refused")

// needsRestart reports whether sc restarts Redis.
func needsRestart(sc *scenarios.Scenario) bool {
	for _, f := range sc.Faults {
		if f.Kind == "redis-restart" {
			return true
		}
	}
	return false
}

// ErrInterrupted is returned when a run is cancelled from outside, as by
// Ctrl-C, rather than by its own deadline.
var ErrInterrupted = errors.New("run interrupted")

// Options tune how scenarios run.
type Options struct {
	// Logger receives one record per run verdict; default discards.
	Logger *slog.Logger
	// Keep leaves each run's data in place and reports how to open it.
	Keep bool
	// Runs overrides the scenario's runs when positive.
	Runs int
	// Progress, when set, is called after each run with the scenario, the
	// strategy, the run's number from 1 and the strategy's number of runs.
	Progress func(scenario, strategy string, run, runs int)
	// Replay, when set, is a replay token: only its configuration runs,
	// following the token's order of steps.
	Replay string

	// chooser serializes one run; set per run by RunScenario.
	chooser schedule.Chooser
	// scheduler describes chooser for the run's replay token.
	scheduler string
}

// Trial is one run of one strategy of a scenario.
type Trial struct {
	Scenario string `json:"scenario"`
	// Strategy names the configuration: its strategy, mutex and dispatch.
	Strategy string           `json:"strategy"`
	Config   scenarios.Config `json:"config"`
	// Run numbers the strategy's runs from 1.
	Run       int             `json:"run"`
	Judgement check.Judgement `json:"judgement"`
	// Order is the checkpoint order the workers entered.
	Order  string          `json:"order"`
	Events []history.Event `json:"events"`
	// Stuck says where each unfinished worker stood at the deadline.
	Stuck []string `json:"stuck,omitempty"`
	// Outcomes lists, per message id, what became of each of its jobs.
	Outcomes map[string][]string `json:"outcomes"`
	// Subscribers lists the subscriber URL paths.
	Subscribers []string `json:"subscribers"`
	// JobErrors lists the jobs that failed.
	JobErrors []string `json:"job_errors,omitempty"`
	// Unroutable counts messages for phone number ids no inbox has.
	Unroutable int `json:"unroutable"`
	// Statuses counts status updates received.
	Statuses int           `json:"statuses"`
	Duration time.Duration `json:"duration_ns"`
	KeepHint string        `json:"keep_hint,omitempty"`
	// Serial describes a serialized run's schedule; nil for the others.
	Serial *SerialRun `json:"serial,omitempty"`
}

// runEnv is what one trial's goroutines share.
type runEnv struct {
	sc       *scenarios.Scenario
	cfg      scenarios.Config
	strategy string
	run      *backend.Run
	inboxes  map[string]store.Inbox
	receiver *subscriber.Receiver
	media    *media.Server
	rec      *history.Recorder
	ctl      *schedule.Controller
	disp     *dispatch.Direct

	clock *clock.Clock
	queue *queue.Queue
	// fed is set once every delivery has been ingested; nextArrival is
	// the clock time of the next one, in Unix ns, 0 when none is left.
	fed         atomic.Bool
	nextArrival atomic.Int64
	// live counts workers still running, idle those waiting for a job.
	live, idle atomic.Int32
	relayBusy  atomic.Bool
	// jumpMu keeps a clock jump apart from a worker's lease: jump holds it
	// to write, a lease to read (see lease).
	jumpMu sync.RWMutex

	mu        sync.Mutex
	jobErrors []string

	// chooser serializes the run when set; stop ends the run early.
	chooser schedule.Chooser
	stop    context.CancelFunc

	// http is the ingest endpoint, once a scenario with ingest: http has
	// sent its first delivery (httpingest.go).
	http *httpIngest
}

// RunTrial runs one configuration of sc once on a fresh database and key
// space. An error means the trial could not be run; a broken property is a
// verdict, not an error.
func RunTrial(ctx context.Context, b backend.Backend, sc *scenarios.Scenario,
	cfg scenarios.Config, n int, opts Options) (Trial, error) {
	started := time.Now()
	// A worker may hold a job lease, a transaction and a lookup at once.
	run, err := b.NewRun(ctx, backend.RunOptions{Keep: opts.Keep,
		MaxConns: int32(3*sc.Workers + 4)})
	if err != nil {
		return Trial{}, fmt.Errorf("prepare run: %w", err)
	}
	defer run.Close(context.WithoutCancel(ctx))
	if needsRestart(sc) && run.RestartRedis == nil {
		return Trial{}, fmt.Errorf("%w: scenario %s restarts Redis, which on the %s "+
			"backend would touch the whole server, not just this run", ErrRefused,
			sc.Name, b.Name())
	}

	env, err := setUp(ctx, sc, cfg, run)
	if err != nil {
		return Trial{}, err
	}
	defer env.receiver.Close()
	defer env.media.Close()
	defer env.closeHTTP()
	env.chooser = opts.chooser

	t := Trial{Scenario: sc.Name, Strategy: cfg.Name(), Config: cfg, Run: n,
		KeepHint: run.KeepHint}
	timedOut, err := env.execute(ctx, &t)
	if err != nil {
		return Trial{}, err
	}
	t.Judgement, err = env.judge(context.WithoutCancel(ctx), timedOut)
	if err != nil {
		return Trial{}, err
	}
	t.Events = env.rec.Events()
	t.Order = history.Order(t.Events)
	t.Outcomes = outcomes(t.Events)
	t.JobErrors = env.jobErrors
	for _, ep := range endpoints(sc) {
		t.Subscribers = append(t.Subscribers, ep.Path)
	}
	if timedOut {
		t.Stuck = env.ctl.Stuck()
	}
	env.recordSchedule(&t, opts)
	t.Duration = time.Since(started)
	return t, nil
}

// setUp creates the inboxes and starts the subscribers' receiver.
func setUp(ctx context.Context, sc *scenarios.Scenario, cfg scenarios.Config,
	run *backend.Run) (*runEnv, error) {
	env := &runEnv{sc: sc, cfg: cfg, strategy: cfg.Strategy, run: run,
		inboxes: map[string]store.Inbox{}}
	st, err := claim.New(cfg.Strategy)
	if err != nil {
		return nil, err
	}
	if err := st.Setup(ctx, run.DB); err != nil {
		return nil, fmt.Errorf("set up strategy %s: %w", cfg.Strategy, err)
	}
	for _, in := range sc.Inboxes {
		created, err := store.CreateInbox(ctx, run.DB, in.Name, in.PhoneNumberID)
		if err != nil {
			return nil, fmt.Errorf("set up inbox: %w", err)
		}
		env.inboxes[in.PhoneNumberID] = created
	}
	receiver, err := subscriber.Start(ctx, subscriber.Config{Endpoints: endpoints(sc)})
	if err != nil {
		return nil, fmt.Errorf("start subscribers: %w", err)
	}
	var subs []dispatch.Subscription
	for _, s := range sc.Subscribers {
		subs = append(subs, dispatch.Subscription{URL: receiver.URL(s.Path), Secret: s.Secret})
	}
	env.disp, err = dispatch.NewDirect(dispatch.Config{Subscriptions: subs,
		Ledger: run.DB})
	if err != nil {
		receiver.Close()
		return nil, fmt.Errorf("set up dispatch: %w", err)
	}
	env.receiver = receiver
	env.media, err = media.Start(media.Config{
		Delay:     time.Duration(sc.Media.DelayMS) * time.Millisecond,
		FailFirst: sc.Media.FailFirst})
	if err != nil {
		receiver.Close()
		return nil, err
	}
	return env, nil
}

// endpoints groups subscribers by URL path: one path subscribed twice is
// one endpoint that accepts either secret.
func endpoints(sc *scenarios.Scenario) []subscriber.Endpoint {
	var eps []subscriber.Endpoint
	index := map[string]int{}
	for _, s := range sc.Subscribers {
		i, ok := index[s.Path]
		if !ok {
			i = len(eps)
			index[s.Path] = i
			eps = append(eps, subscriber.Endpoint{Path: s.Path})
		}
		eps[i].Secrets = append(eps[i].Secrets, s.Secret)
		eps[i].LoseResponses += s.LoseResponses
	}
	return eps
}

// worker builds the flow worker called name.
func (e *runEnv) worker(name string) (*flow.Worker, error) {
	st, err := claim.New(e.strategy)
	if err != nil {
		return nil, err
	}
	w := &flow.Worker{Name: name, DB: e.run.DB, Redis: e.run.Redis,
		KeyPrefix: e.run.KeyPrefix, Namespace: namespace(e.run.ID), Strategy: st,
		Hook: e.ctl}
	if len(e.sc.Subscribers) > 0 {
		w.Dispatcher = e.disp
		w.Outbox = e.cfg.Dispatch == "outbox"
	}
	w.Media = fetcher{e.media}
	w.Isolation = isolation(e.sc.Isolation)
	for _, f := range e.sc.Faults {
		if f.Kind == "dispatch-twice" {
			w.DispatchCalls = 2
		}
	}
	if m := e.sc.Mutex; m != nil && e.cfg.Mutex != "" {
		w.Mutex = &flow.Mutex{
			TTL:           time.Duration(m.TTLMS) * time.Millisecond,
			RetryInterval: time.Duration(m.RetryIntervalMS) * time.Millisecond,
			Retries:       m.Retries,
			OwnerChecked:  e.cfg.Mutex == "owner-checked",
			OnExhausted:   flow.Exhausted(m.OnExhausted),
		}
	}
	return w, nil
}

// isolation maps a scenario's level to pgx's.
func isolation(level string) pgx.TxIsoLevel {
	switch level {
	case "repeatable read":
		return pgx.RepeatableRead
	case "serializable":
		return pgx.Serializable
	}
	return pgx.ReadCommitted
}

// fetcher downloads attachments from the run's media server.
type fetcher struct{ srv *media.Server }

// mediaClient bounds a download as the worker's HTTP client would.
var mediaClient = &http.Client{Timeout: 30 * time.Second}

// Fetch implements flow.MediaFetcher.
func (f fetcher) Fetch(ctx context.Context, m meta.Media) (string, error) {
	n, err := media.Fetch(ctx, mediaClient, f.srv.URL(m.ID))
	return fmt.Sprintf("%d bytes", n), err
}

// namespace hashes a run id to the first key of its advisory locks.
func namespace(runID string) int32 {
	h := fnv.New32a()
	h.Write([]byte(runID))
	return int32(h.Sum32())
}

func (e *runEnv) jobFailed(worker string, job flow.Job, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.jobErrors = append(e.jobErrors,
		fmt.Sprintf("%s %s attempt %d: %v", worker, job.Message.ID, job.Attempt, err))
}
