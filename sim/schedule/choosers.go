package schedule

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/dedupsim/dedupsim/core/checkpoint"
)

// ScriptStep is one step of a script: a worker, and the checkpoint it must
// stand at, or "" for whatever its next checkpoint is.
type ScriptStep struct {
	Worker string
	At     checkpoint.Name
}

// MaxScriptSteps bounds a script's steps, its repeats expanded: the cap a
// scenario's runs have, far past the steps of any run.
const MaxScriptSteps = 100000

// StepError is ParseScript's error about one step.
type StepError struct {
	// Index is the step's place in the list, from 0.
	Index int
	Step  string
	Err   error
}

// Error formats e as `step N "W1*x": message`, N counting from 1.
func (e *StepError) Error() string {
	return fmt.Sprintf("step %d %q: %v", e.Index+1, e.Step, e.Err)
}

// Unwrap returns the error about the step.
func (e *StepError) Unwrap() error { return e.Err }

// ParseScript reads script steps written "W1:claim.lookup" (W1 at that
// checkpoint), "W1" (W1's next step, wherever it stands) or "W1*3" (W1's
// next three steps). A repeat count, and the steps in all once repeats are
// expanded, must be at most MaxScriptSteps; both are checked before a step
// is expanded, so a huge count costs no memory. Its errors are *StepError.
func ParseScript(items []string) ([]ScriptStep, error) {
	var out []ScriptStep
	for i, it := range items {
		fail := func(format string, args ...any) error {
			return &StepError{Index: i, Step: it, Err: fmt.Errorf(format, args...)}
		}
		w, at, ok := strings.Cut(strings.TrimSpace(it), ":")
		n := 1
		if name, count, many := strings.Cut(w, "*"); many && !ok {
			c, err := strconv.Atoi(count)
			switch {
			case errors.Is(err, strconv.ErrRange) || err == nil && c > MaxScriptSteps:
				return nil, fail("repeat count must be from 1 to %d, not %s",
					MaxScriptSteps, count)
			case err != nil || c < 1:
				return nil, fail("bad repeat count")
			}
			w, n = name, c
		}
		if w == "" {
			return nil, fail("no worker")
		}
		if ok && !checkpoint.Known(checkpoint.Name(at)) {
			return nil, fail("%w %q", checkpoint.ErrUnknown, at)
		}
		if len(out)+n > MaxScriptSteps {
			return nil, fail("the steps, repeats expanded, must be at most %d in all",
				MaxScriptSteps)
		}
		for range n {
			out = append(out, ScriptStep{Worker: w, At: checkpoint.Name(at)})
		}
	}
	return out, nil
}

// Script follows a listed order of steps exactly; past its end, the
// lowest-named waiting worker goes first.
type Script struct {
	Steps []ScriptStep
}

// Choose implements Chooser.
func (s Script) Choose(n int, enabled []Step) (int, error) {
	if n >= len(s.Steps) {
		return 0, nil
	}
	want := s.Steps[n]
	for i, e := range enabled {
		if e.Worker != want.Worker {
			continue
		}
		if want.At != "" && e.At != want.At {
			return 0, fmt.Errorf("%w: script step %d wants %s:%s, %s is at %s",
				ErrDiverged, n+1, want.Worker, want.At, e.Worker, e.At)
		}
		return i, nil
	}
	return 0, fmt.Errorf("%w: script step %d wants %s:%s, which is not waiting for "+
		"its turn", ErrDiverged, n+1, want.Worker, want.At)
}

// Random picks uniformly among the waiting workers, from a seeded source.
type Random struct {
	rng *rand.Rand
}

// NewRandom returns a Random seeded by seed and run.
func NewRandom(seed int64, run int) *Random {
	return &Random{rng: rand.New(rand.NewPCG(uint64(seed), uint64(run)))}
}

// Choose implements Chooser.
func (r *Random) Choose(_ int, enabled []Step) (int, error) {
	return r.rng.IntN(len(enabled)), nil
}

// PCT is probabilistic concurrency testing (Burckhardt et al., ASPLOS
// 2010): each worker gets a random priority, the highest-priority waiting
// worker goes, and at depth-1 random steps among the first MaxSteps the
// running worker drops below every other.
type PCT struct {
	prio   map[string]int
	change map[int]int // step -> the priority the chosen worker drops to
}

// NewPCT returns a PCT scheduler for workers, bug depth d and an
// estimate k of the steps of a run, seeded by seed and run.
func NewPCT(workers []string, d, k int, seed int64, run int) *PCT {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(run)))
	p := &PCT{prio: map[string]int{}, change: map[int]int{}}
	for i, j := range rng.Perm(len(workers)) {
		p.prio[workers[i]] = d + j
	}
	for i := 1; i < d; i++ {
		p.change[rng.IntN(max(k, 1))] = d - i
	}
	return p
}

// Choose implements Chooser.
func (p *PCT) Choose(n int, enabled []Step) (int, error) {
	best := 0
	for i, e := range enabled {
		if p.prio[e.Worker] > p.prio[enabled[best].Worker] {
			best = i
		}
	}
	if low, ok := p.change[n]; ok {
		p.prio[enabled[best].Worker] = low
	}
	return best, nil
}

// PCTBound is the probability PCT guarantees for finding a bug of depth d
// in one run, with n workers and k steps: 1/(n·k^(d−1)).
func PCTBound(n, k, d int) float64 {
	return 1 / (float64(n) * math.Pow(float64(k), float64(d-1)))
}

// RunsFor is how many runs find a bug of per-run probability p with 99 %
// confidence: ceil(ln(0.01)/ln(1−p)).
func RunsFor(p float64) int {
	if p >= 1 {
		return 1
	}
	if p <= 0 {
		return math.MaxInt
	}
	return int(math.Ceil(math.Log(0.01) / math.Log(1-p)))
}
