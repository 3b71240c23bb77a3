package schedule

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
)

// Step is one choice of a serialized run: a worker let through a
// checkpoint, and what the step was about to touch.
type Step struct {
	Worker string
	At     checkpoint.Name
	Detail string
}

// String gives the step as "W1:claim.lookup".
func (s Step) String() string { return s.Worker + ":" + string(s.At) }

// Chooser picks who goes next in a serialized run.
type Chooser interface {
	// Choose returns the index in enabled of the step taken as step n,
	// counted from 0. enabled holds one step per worker waiting for its
	// turn, sorted by worker. An error ends the run: the schedule cannot
	// go on, as when a script asks for a step no worker stands at.
	Choose(n int, enabled []Step) (int, error)
}

// ErrDiverged is wrapped by the error that ends a run whose schedule asked
// for a step that could not be taken.
var ErrDiverged = errors.New("schedule diverged")

// ErrHang is wrapped by the error that ends a serialized run in which
// every live worker is blocked or held and none can go on.
var ErrHang = errors.New("hang: no worker can go on")

// hangAfter is how long every live worker must stay blocked before the
// run counts as hung: longer than Postgres takes to break a deadlock.
const hangAfter = 3 * time.Second

// state is where a worker stands in a serialized run.
type state int

const (
	running  state = iota // between checkpoints, doing its step
	waiting               // at a checkpoint, waiting for its turn
	blocked               // inside Postgres, waiting for another's lock
	idle                  // waiting for a job
	finished              // passes no more checkpoints
)

// serial lets one worker run at a time. Its methods are safe on a nil
// receiver, which stands for a controller that does not serialize.
type serial struct {
	chooser Chooser
	abort   func(error)

	mu     sync.Mutex
	state  map[string]state
	at     map[string]Step
	holder map[string]string
	grant  map[string]chan struct{}
	steps  []Step
	err    error
	// hang counts hang checks, so that a stale timer does nothing.
	hang int
	// polls counts the lock watcher's rounds still to wait for before a
	// choice while a worker is blocked: its wait may have just ended.
	polls int
}

func newSerial(workers []string, ch Chooser, abort func(error)) *serial {
	s := &serial{chooser: ch, abort: abort, state: map[string]state{},
		at: map[string]Step{}, holder: map[string]string{},
		grant: map[string]chan struct{}{}}
	for _, w := range workers {
		s.state[w] = running
	}
	return s
}

// turn holds the worker at p until the chooser picks it.
func (c *Controller) turn(ctx context.Context, p checkpoint.Point) error {
	s := c.serial
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if _, ok := s.state[p.Worker]; !ok {
		s.mu.Unlock()
		return nil // not a worker of the run, such as the outbox relay
	}
	if s.err != nil {
		s.mu.Unlock()
		return s.err
	}
	go1 := make(chan struct{})
	s.state[p.Worker] = waiting
	s.at[p.Worker] = Step{Worker: p.Worker, At: p.Name, Detail: p.Detail}
	s.grant[p.Worker] = go1
	s.advance()
	s.mu.Unlock()

	c.setWhere(p.Worker, "waiting for its turn at "+string(p.Name))
	select {
	case <-go1:
	case <-ctx.Done():
		return fmt.Errorf("waiting for its turn at %s: %w", p.Name, deadline(ctx))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// advance lets the next worker go once none is running. It must be
// called with s.mu held.
func (s *serial) advance() {
	if s.err != nil {
		return
	}
	var enabled []Step
	anyBlocked := false
	for w, st := range s.state {
		switch st {
		case running:
			return
		case waiting:
			enabled = append(enabled, s.at[w])
		case blocked:
			anyBlocked = true
		}
	}
	s.hang++
	if len(enabled) == 0 {
		if anyBlocked {
			s.watchHang(s.hang)
		}
		return
	}
	if anyBlocked && s.polls == 0 {
		s.polls = freshPolls
		return
	}
	if s.polls > 1 {
		return
	}
	s.polls = 0
	sort.Slice(enabled, func(i, j int) bool { return enabled[i].Worker < enabled[j].Worker })
	i, err := s.chooser.Choose(len(s.steps), enabled)
	if err == nil && (i < 0 || i >= len(enabled)) {
		err = fmt.Errorf("%w: chooser picked %d of %d", ErrDiverged, i, len(enabled))
	}
	if err != nil {
		s.end(fmt.Errorf("step %d: %w (%s)", len(s.steps)+1, err, s.describe()))
		return
	}
	st := enabled[i]
	s.steps = append(s.steps, st)
	s.state[st.Worker] = running
	close(s.grant[st.Worker])
	delete(s.grant, st.Worker)
}

// freshPolls is how many rounds of the lock watcher a choice waits for
// while a worker is blocked: the second starts after the last step ended,
// so a wait that step ended has been seen to end.
const freshPolls = 3

// Polled tells a serialized controller that the lock watcher has begun a
// new round: a choice held back for a fresh look at the blocked workers
// can be made once enough rounds have passed.
func (c *Controller) Polled() {
	s := c.serial
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.polls > 1 {
		s.polls--
		if s.polls == 1 {
			s.advance()
		}
	}
}

// watchHang ends the run if nothing has changed after hangAfter.
func (s *serial) watchHang(gen int) {
	time.AfterFunc(hangAfter, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.hang == gen && s.err == nil {
			s.end(fmt.Errorf("%w: %s", ErrHang, s.graph()))
		}
	})
}

// end stops the run with err and lets every waiting worker go, to fail.
// It must be called with s.mu held.
func (s *serial) end(err error) {
	s.err = err
	for w, ch := range s.grant {
		close(ch)
		delete(s.grant, w)
	}
	if s.abort != nil {
		s.abort(err)
	}
}

// describe says where every worker stands, for a divergence.
func (s *serial) describe() string {
	names := make([]string, 0, len(s.state))
	for w := range s.state {
		names = append(names, w)
	}
	sort.Strings(names)
	var out []string
	for _, w := range names {
		out = append(out, w+" "+s.where(w))
	}
	return strings.Join(out, "; ")
}

func (s *serial) where(w string) string {
	switch s.state[w] {
	case waiting:
		return "at " + string(s.at[w].At)
	case blocked:
		return "blocked in Postgres by " + s.holder[w]
	case idle:
		return "waiting for a job"
	case finished:
		return "finished"
	}
	return "running"
}

// graph is the blocker graph: who waits for whom.
func (s *serial) graph() string {
	var out []string
	for w, st := range s.state {
		if st == blocked {
			out = append(out, w+" waits for "+s.holder[w])
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// set moves worker from one of the states in from to st.
func (s *serial) set(worker string, st state, from ...state) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.state[worker]
	if !ok {
		return
	}
	for _, f := range from {
		if cur == f {
			s.state[worker] = st
			s.advance()
			return
		}
	}
}

// block records a worker's wait in Postgres, or its end with holder "".
func (s *serial) block(worker, holder string) {
	if s == nil {
		return
	}
	if holder == "" {
		s.set(worker, running, blocked)
		return
	}
	s.mu.Lock()
	s.holder[worker] = holder
	s.mu.Unlock()
	s.set(worker, blocked, running)
}

// Serialized reports whether the controller lets one worker run at a time.
func (c *Controller) Serialized() bool { return c.serial != nil }

// SetIdle tells a serialized controller that a worker waits for a job
// (idle true) or has one again. An idle worker is not waited for.
func (c *Controller) SetIdle(worker string, on bool) {
	if on {
		c.serial.set(worker, idle, running)
	} else {
		c.serial.set(worker, running, idle)
	}
}

// Schedule returns the steps a serialized run took, in order, and the
// error that ended it early, if any.
func (c *Controller) Schedule() ([]Step, error) {
	s := c.serial
	if s == nil {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Step(nil), s.steps...), s.err
}
