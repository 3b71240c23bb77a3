package schedule

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dedupsim/dedupsim/core/checkpoint"
)

// access is what a step touches: a resource, read or written.
type access struct {
	res   string
	write bool
}

// accessOf derives what a step touches from its checkpoint and detail;
// false means it touches nothing shared (BEGIN).
func accessOf(s Step) (access, bool) {
	fields := strings.Fields(s.Detail)
	key := s.Detail
	if len(fields) > 1 {
		key = fields[1]
	}
	switch s.At {
	case checkpoint.TxBegin:
		return access{}, false
	case checkpoint.JobFetch:
		return access{res: "queue", write: true}, true
	case checkpoint.ClaimLookup:
		return access{res: "pg:" + s.Detail}, true
	case checkpoint.ClaimCheck:
		return access{res: "redis:" + key}, true
	case checkpoint.ClaimMark, checkpoint.ClaimClear, checkpoint.ClaimRelease,
		checkpoint.LockAcquire, checkpoint.LockRelease:
		return access{res: "redis:" + key, write: true}, true
	case checkpoint.WebhookSend, checkpoint.WebhookAck:
		return access{res: "http:" + s.Detail, write: true}, true
	}
	// Every other step writes Postgres somewhere: take it as touching all
	// of it.
	return access{res: "pg", write: true}, true
}

// Independent reports whether two steps of different workers commute:
// they touch different Redis keys, rows or URLs, or both only read. Steps
// of one worker never do.
func Independent(a, b Step) bool {
	if a.Worker == b.Worker {
		return false
	}
	x, okA := accessOf(a)
	y, okB := accessOf(b)
	if !okA || !okB || (!x.write && !y.write) {
		return true
	}
	same := x.res == y.res ||
		(x.res == "pg" && strings.HasPrefix(y.res, "pg")) ||
		(y.res == "pg" && strings.HasPrefix(x.res, "pg"))
	return !same
}

// Canonical names the equivalence class of a schedule: the smallest
// order, step by step, among those that only swap adjacent independent
// steps. Two schedules with the same canonical form are one interleaving.
func Canonical(steps []Step) string {
	n := len(steps)
	preds := make([]int, n)
	for j := range n {
		for i := range j {
			if !Independent(steps[i], steps[j]) {
				preds[j]++
			}
		}
	}
	taken := make([]bool, n)
	var out []string
	for range n {
		best := -1
		for j := range n {
			if taken[j] || preds[j] > 0 {
				continue
			}
			if best < 0 || steps[j].String() < steps[best].String() {
				best = j
			}
		}
		taken[best] = true
		out = append(out, steps[best].String())
		for j := best + 1; j < n; j++ {
			if !Independent(steps[best], steps[j]) {
				preds[j]--
			}
		}
	}
	return strings.Join(out, " ")
}

// Window places a checkpoint against the window from..to in flow order:
// -1 before it, 0 inside (both ends included), 1 after it.
func Window(from, to checkpoint.Name) func(checkpoint.Name) int {
	lo, hi := slices.Index(checkpoint.All, from), slices.Index(checkpoint.All, to)
	return func(n checkpoint.Name) int {
		switch i := slices.Index(checkpoint.All, n); {
		case i < lo:
			return -1
		case i > hi:
			return 1
		}
		return 0
	}
}

// node is one choice point of the search.
type node struct {
	// all is every waiting step; enabled those the search may choose.
	all     []Step
	enabled []Step
	sleep   []Step
	done    map[string]bool // workers already explored here
	// partial marks explored workers whose subtree was not searched in
	// full, a window having forced a choice in it: they may not sleep.
	partial map[string]bool
	chosen  string
	forced  bool
	// skips marks a forced choice made while a step inside the window
	// was waiting.
	skips bool
}

// Explorer searches every interleaving at checkpoint granularity, depth
// first over choice sequences: each run replays a prefix of choices and
// then branches. With Prune, sleep sets skip orders that differ only in
// the order of adjacent independent steps.
type Explorer struct {
	// Prune turns on sleep sets.
	Prune bool
	// Window, when set, places checkpoints against the window explored
	// (see Window): a worker before it goes first and one after it last,
	// both without branching; only steps inside are interleaved.
	Window func(checkpoint.Name) int
	// MaxRuns bounds the search; reaching it leaves it incomplete.
	MaxRuns int

	nodes     []node
	runs      int
	redundant int
	finished  bool
}

// Runs is how many runs the search has started.
func (e *Explorer) Runs() int { return e.runs }

// Redundant counts runs cut short by the sleep sets: equivalent to an
// interleaving already explored.
func (e *Explorer) Redundant() int { return e.redundant }

// Complete reports whether every interleaving has been explored.
func (e *Explorer) Complete() bool { return e.finished }

// Next returns the chooser of the next run, or nil when the search is
// complete or has used its runs.
func (e *Explorer) Next() *ExploreRun {
	if e.finished || (e.MaxRuns > 0 && e.runs >= e.MaxRuns) {
		return nil
	}
	e.runs++
	return &ExploreRun{e: e, replay: len(e.nodes)}
}

// ExploreRun is the chooser of one run of an Explorer.
type ExploreRun struct {
	e      *Explorer
	replay int
	// entered marks workers that have taken a step inside the window: a
	// checkpoint before it is then their next job, after the window.
	entered map[string]bool
	// Cut is set once the run has become equivalent to an explored one.
	Cut bool
}

// Choose implements Chooser.
func (r *ExploreRun) Choose(n int, enabled []Step) (int, error) {
	i, err := r.choose(n, enabled)
	if err == nil && r.e.Window != nil && i < len(enabled) && r.e.Window(enabled[i].At) == 0 {
		if r.entered == nil {
			r.entered = map[string]bool{}
		}
		r.entered[enabled[i].Worker] = true
	}
	return i, err
}

// place is Window for a step: before the window counts as after it for a
// worker that has been inside.
func (r *ExploreRun) place(s Step) int {
	w := r.e.Window(s.At)
	if w < 0 && r.entered[s.Worker] {
		return 1
	}
	return w
}

func (r *ExploreRun) choose(n int, enabled []Step) (int, error) {
	e := r.e
	if n < r.replay {
		nd := e.nodes[n]
		if !sameWorkers(nd.all, enabled) {
			return 0, fmt.Errorf("%w: step %d did not repeat: was %v, now %v",
				ErrDiverged, n+1, nd.all, enabled)
		}
		return slices.IndexFunc(enabled, func(s Step) bool { return s.Worker == nd.chosen }), nil
	}
	if r.Cut {
		return 0, nil
	}
	nd := node{all: enabled, enabled: enabled, done: map[string]bool{},
		partial: map[string]bool{}}
	if n > 0 && e.Prune {
		nd.sleep = e.nodes[n-1].childSleep()
	}
	if i, ok := r.force(&nd); ok {
		e.nodes = append(e.nodes, nd)
		return i, nil
	}
	j := slices.IndexFunc(nd.enabled, func(s Step) bool { return !nd.asleep(s.Worker) })
	if j < 0 {
		r.Cut = true
		e.redundant++
		return 0, nil
	}
	nd.chosen = nd.enabled[j].Worker
	e.nodes = append(e.nodes, nd)
	return slices.IndexFunc(enabled, func(s Step) bool { return s.Worker == nd.chosen }), nil
}

// force makes the choice a window imposes, if any: a worker before the
// window goes first; one past it goes only when none is inside. Otherwise
// it narrows the choice to the steps inside the window.
func (r *ExploreRun) force(nd *node) (int, bool) {
	e := r.e
	if e.Window == nil {
		return 0, false
	}
	var inside []Step
	for _, s := range nd.all {
		if r.place(s) == 0 {
			inside = append(inside, s)
		}
	}
	i := slices.IndexFunc(nd.all, func(s Step) bool { return r.place(s) < 0 })
	if i < 0 && len(inside) == 0 {
		i = 0
	}
	if i < 0 {
		nd.enabled = inside
		return 0, false
	}
	nd.forced, nd.chosen = true, nd.all[i].Worker
	// Forcing a worker ahead of one inside the window leaves orders
	// unexplored: the search above may not count on them.
	nd.skips = len(inside) > 0
	return i, true
}

// Finish moves the search to the next branch, after a run has ended.
func (r *ExploreRun) Finish() {
	e := r.e
	cut := false // a forced choice among several lies below
	for i := len(e.nodes) - 1; i >= 0; i-- {
		nd := &e.nodes[i]
		if nd.forced {
			cut = cut || nd.skips
			continue
		}
		nd.done[nd.chosen] = true
		nd.partial[nd.chosen] = nd.partial[nd.chosen] || cut
		for _, s := range nd.enabled {
			if !nd.done[s.Worker] && !nd.asleep(s.Worker) {
				nd.chosen = s.Worker
				e.nodes = e.nodes[:i+1]
				return
			}
		}
	}
	e.nodes = nil
	e.finished = true
}

func (nd node) asleep(worker string) bool {
	return slices.ContainsFunc(nd.sleep, func(s Step) bool { return s.Worker == worker })
}

// childSleep is the sleep set of the node reached by nd's choice: the
// steps asleep or explored here that commute with it.
func (nd node) childSleep() []Step {
	var chosen Step
	for _, s := range nd.enabled {
		if s.Worker == nd.chosen {
			chosen = s
		}
	}
	var out []Step
	for _, s := range nd.enabled {
		explored := nd.done[s.Worker] && !nd.partial[s.Worker]
		if (explored || nd.asleep(s.Worker)) && s.Worker != nd.chosen &&
			Independent(s, chosen) {
			out = append(out, s)
		}
	}
	return out
}

func sameWorkers(a, b []Step) bool {
	return slices.EqualFunc(a, b, func(x, y Step) bool {
		return x.Worker == y.Worker && x.At == y.At
	})
}
