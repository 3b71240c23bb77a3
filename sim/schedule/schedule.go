// Package schedule is the simulator's hand on the workers: a checkpoint
// hook that records every step, holds workers at barriers until the others
// arrive, and pauses them where a scenario says.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim/clock"
	"github.com/dedupsim/dedupsim/sim/history"
)

// ErrDeadline is wrapped by the error a worker gets when the run's deadline
// passes while the scheduler holds it.
var ErrDeadline = errors.New("run deadline passed")

// Barrier aligns workers: each participant waits at its checkpoint until
// every other participant has arrived at its own or has finished.
type Barrier struct {
	// At maps each participating worker to its checkpoint.
	At map[string]checkpoint.Name
}

// Kind says what a fault does to a worker at its checkpoint.
type Kind string

const (
	// Pause holds the worker for a while, then lets the step run.
	Pause Kind = "pause"
	// Error fails the step: the worker's own error handling runs.
	Error Kind = "error"
	// Crash kills the worker there: its connections are terminated and
	// none of its cleanup runs.
	Crash Kind = "crash"
	// Disconnect kills the worker's transaction connection and lets the
	// step run into the broken connection.
	Disconnect Kind = "disconnect"
	// RedisRestart restarts Redis just before the step: every key is gone.
	RedisRestart Kind = "redis-restart"
)

// ErrNoRestart is returned for a Redis restart on a backend that cannot
// restart Redis for one run alone.
var ErrNoRestart = errors.New("this backend cannot restart Redis")

// ErrInjected is the error a step fails with under an Error fault.
var ErrInjected = errors.New("injected error")

// Fault is something done to a worker at a checkpoint.
type Fault struct {
	Kind Kind
	// Worker and Job pick the worker; an empty one matches any.
	Worker string
	Job    string
	At     checkpoint.Name
	// Occurrence picks which pass of the checkpoint by that worker, from
	// 1; 0 means every pass.
	Occurrence int
	// Attempt picks the job attempt, from 1; 0 means every attempt.
	Attempt int
	// For is how long a pause lasts.
	For time.Duration
}

// Config describes what the controller does.
type Config struct {
	// Workers names every worker of the run.
	Workers  []string
	Barriers []Barrier
	Faults   []Fault
	// Recorder receives every event; required.
	Recorder *history.Recorder
	// Sleep waits for d or until ctx ends; default a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Kill terminates Postgres backends, for crashes, and returns once
	// they are gone.
	Kill func(ctx context.Context, pids []uint32) error
	// RestartRedis restarts Redis for a RedisRestart fault.
	RestartRedis func(ctx context.Context) error
	// Chooser, when set, serializes the run: one worker runs at a time
	// and Chooser picks who goes next (see serial.go).
	Chooser Chooser
	// Abort ends a serialized run that cannot go on, with the reason.
	Abort func(error)
}

// matches reports whether the fault applies to p on its n-th pass.
func (f Fault) matches(p checkpoint.Point, n int) bool {
	return (f.Worker == "" || f.Worker == p.Worker) &&
		(f.Job == "" || f.Job == p.Job) && f.At == p.Name &&
		(f.Occurrence == 0 || f.Occurrence == n) &&
		(f.Attempt == 0 || f.Attempt == p.Attempt)
}

// passKey names one worker's checkpoint, to count its passes.
type passKey struct {
	worker string
	at     checkpoint.Name
}

// Controller implements checkpoint.Hook for one run.
type Controller struct {
	cfg      Config
	barriers []*barrier

	mu     sync.Mutex
	passes map[passKey]int // passes so far
	where  map[string]string
	leases map[string]uint32
	// inStep maps a worker running a step's I/O to its backend pid.
	inStep map[string]uint32
	// txPID maps a worker to the backend of its open transaction.
	txPID map[string]uint32
	// waits maps a worker blocked in Postgres to what it waits for.
	waits map[string]string
	// frozen keeps where from changing once the run has ended.
	frozen bool
	// serial is nil unless the run is serialized.
	serial *serial
}

// New returns a controller for one run.
func New(cfg Config) *Controller {
	if cfg.Sleep == nil {
		cfg.Sleep = clock.Sleep
	}
	c := &Controller{cfg: cfg, passes: map[passKey]int{}, where: map[string]string{},
		leases: map[string]uint32{}, inStep: map[string]uint32{},
		txPID: map[string]uint32{},
		waits: map[string]string{}}
	for _, b := range cfg.Barriers {
		c.barriers = append(c.barriers, newBarrier(b))
	}
	for _, w := range cfg.Workers {
		c.where[w] = "not started"
	}
	if cfg.Chooser != nil {
		c.serial = newSerial(cfg.Workers, cfg.Chooser, cfg.Abort)
	}
	return c
}

// Enter implements checkpoint.Hook: it records the arrival, then holds the
// worker at any barrier and pause that apply.
func (c *Controller) Enter(ctx context.Context, p checkpoint.Point) error {
	if err := c.turn(ctx, p); err != nil {
		return err
	}
	c.cfg.Recorder.Add(event(p, history.Enter, "", nil))
	n := c.pass(p.Worker, p.Name)
	for _, b := range c.barriers {
		if err := c.await(ctx, b, p); err != nil {
			return err
		}
	}
	for _, f := range c.cfg.Faults {
		if !f.matches(p, n) {
			continue
		}
		if err := c.inject(ctx, p, f); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.inStep[p.Worker] = p.PID
	c.txPID[p.Worker] = p.PID
	c.mu.Unlock()
	return nil
}

// inject applies fault f to the worker at p.
func (c *Controller) inject(ctx context.Context, p checkpoint.Point, f Fault) error {
	switch f.Kind {
	case Error:
		c.note(p, "injected error")
		return fmt.Errorf("%w at %s", ErrInjected, p.Name)
	case Crash:
		return c.crash(ctx, p)
	case RedisRestart:
		c.note(p, "Redis restarted: every key is gone")
		if c.cfg.RestartRedis == nil {
			return fmt.Errorf("restart redis at %s: %w", p.Name, ErrNoRestart)
		}
		return c.cfg.RestartRedis(ctx)
	case Disconnect:
		c.note(p, fmt.Sprintf("connection lost (killing backend %d)", p.PID))
		if c.cfg.Kill == nil || p.PID == 0 {
			return nil
		}
		return c.cfg.Kill(ctx, []uint32{p.PID})
	}
	return c.pause(ctx, p, f.For)
}

// crash kills the worker's Postgres backends and tells it to die.
func (c *Controller) crash(ctx context.Context, p checkpoint.Point) error {
	pids := c.backends(p)
	c.note(p, fmt.Sprintf("crashed (killing backends %v)", pids))
	if c.cfg.Kill != nil && len(pids) > 0 {
		if err := c.cfg.Kill(ctx, pids); err != nil {
			return fmt.Errorf("crash at %s: %w", p.Name, err)
		}
	}
	return fmt.Errorf("%w at %s", checkpoint.ErrCrash, p.Name)
}

// SetLease records the backend pid of the job lease a worker holds, 0
// when it holds none, so that a crash can kill it too.
func (c *Controller) SetLease(worker string, pid uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leases[worker] = pid
}

func (c *Controller) backends(p checkpoint.Point) []uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var pids []uint32
	for _, pid := range []uint32{p.PID, c.leases[p.Worker]} {
		if pid != 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Done implements checkpoint.Hook.
func (c *Controller) Done(_ context.Context, p checkpoint.Point, out checkpoint.Outcome) {
	c.mu.Lock()
	delete(c.inStep, p.Worker)
	c.mu.Unlock()
	c.SetBlocked(p.Worker, "")
	c.cfg.Recorder.Add(event(p, history.Done, out.Result, out.Err))
}

// InStep returns the backend pid of every worker running a step's I/O on
// a connection, by worker.
func (c *Controller) InStep() map[string]uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]uint32{}
	for w, pid := range c.inStep {
		if pid != 0 {
			out[w] = pid
		}
	}
	return out
}

// Owner names the worker whose transaction or job lease runs on backend
// pid, or "" when none does.
func (c *Controller) Owner(pid uint32) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for w, p := range c.inStep {
		if p == pid {
			return w
		}
	}
	for _, m := range []map[string]uint32{c.txPID, c.leases} {
		for w, p := range m {
			if p == pid {
				return w
			}
		}
	}
	return ""
}

// SetBlocked records that worker waits in Postgres for a lock held by
// holder, or, with holder "", that it waits no more. Barriers count a
// blocked worker as arrived, and the history shows each wait and its end.
func (c *Controller) SetBlocked(worker, holder string) {
	c.setBlocked(worker, 0, holder)
}

// SetBlockedAt is SetBlocked for a wait seen on backend pid: it does
// nothing if the worker has since left the step it was seen in.
func (c *Controller) SetBlockedAt(worker string, pid uint32, holder string) {
	c.setBlocked(worker, pid, holder)
}

func (c *Controller) setBlocked(worker string, pid uint32, holder string) {
	c.mu.Lock()
	if pid != 0 && c.inStep[worker] != pid {
		c.mu.Unlock()
		return
	}
	was := c.waits[worker]
	if holder == "" {
		delete(c.waits, worker)
	} else {
		c.waits[worker] = holder
		if !c.frozen {
			c.where[worker] = "waiting for a lock held by " + holder
		}
	}
	c.mu.Unlock()
	if was == holder {
		return
	}
	p := checkpoint.Point{Worker: worker}
	if holder == "" {
		c.note(p, "lock granted")
	} else {
		c.note(p, "waiting for a lock held by "+holder)
	}
	c.serial.block(worker, holder)
	for _, b := range c.barriers {
		b.block(worker, holder != "")
	}
}

// Finished tells the controller a worker will pass no more checkpoints, so
// barriers stop waiting for it.
func (c *Controller) Finished(worker string) {
	c.setWhere(worker, "finished")
	c.serial.set(worker, finished, running, waiting, blocked, idle)
	c.cfg.Recorder.Add(history.Event{Worker: worker, Phase: history.Note, Result: "finished"})
	for _, b := range c.barriers {
		b.finish(worker)
	}
}

// JobEnded tells the controller a worker's job is over, stored, refused
// or failed. Barriers the worker had not reached yet count it as arrived:
// they never wait for a worker whose job will not come.
func (c *Controller) JobEnded(worker string) {
	c.mu.Lock()
	delete(c.txPID, worker)
	c.mu.Unlock()
	for _, b := range c.barriers {
		b.finish(worker)
	}
}

// Stuck lists the workers that have not finished and where each stands,
// sorted by worker, for a run that ran past its deadline.
func (c *Controller) Stuck() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for w, at := range c.where {
		if at != "finished" {
			out = append(out, w+" "+at)
		}
	}
	sort.Strings(out)
	return out
}

func (c *Controller) pass(worker string, n checkpoint.Name) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := passKey{worker, n}
	c.passes[key]++
	if !c.frozen {
		c.where[worker] = "at " + string(n)
	}
	return c.passes[key]
}

func (c *Controller) setWhere(worker, at string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen {
		c.where[worker] = at
	}
}

// Freeze keeps Stuck's answer as it stands: called when the run ends, so
// that workers leaving do not hide where they were.
func (c *Controller) Freeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen = true
}

// await holds p's worker at b if b waits for it here, the first time only.
func (c *Controller) await(ctx context.Context, b *barrier, p checkpoint.Point) error {
	release, ok := b.arrive(p.Worker, p.Name)
	if !ok {
		return nil
	}
	c.setWhere(p.Worker, "held at barrier "+string(p.Name))
	c.note(p, "held at barrier")
	select {
	case <-release:
	case <-ctx.Done():
		return fmt.Errorf("held at barrier %s: %w", p.Name, deadline(ctx))
	}
	c.setWhere(p.Worker, "at "+string(p.Name))
	c.note(p, "released from barrier")
	return nil
}

func (c *Controller) pause(ctx context.Context, p checkpoint.Point, d time.Duration) error {
	c.setWhere(p.Worker, fmt.Sprintf("paused at %s for %s", p.Name, d))
	c.note(p, "paused "+d.String())
	if err := c.cfg.Sleep(ctx, d); err != nil {
		return fmt.Errorf("paused at %s: %w", p.Name, deadline(ctx))
	}
	c.setWhere(p.Worker, "at "+string(p.Name))
	c.note(p, "resumed")
	return nil
}

func (c *Controller) note(p checkpoint.Point, what string) {
	c.cfg.Recorder.Add(event(p, history.Note, what, nil))
}

func event(p checkpoint.Point, ph history.Phase, result string, err error) history.Event {
	e := history.Event{Worker: p.Worker, Checkpoint: p.Name, Phase: ph,
		Job: p.Job, Attempt: p.Attempt, Detail: p.Detail, Result: result}
	if err != nil {
		e.Err = err.Error()
	}
	return e
}

func deadline(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrDeadline
	}
	return ctx.Err()
}
