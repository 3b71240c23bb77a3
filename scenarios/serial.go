package scenarios

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim/schedule"
)

// Defaults of the serialized schedules.
const (
	defaultDepth       = 2
	defaultMaxRuns     = 1000
	stepsPerWorker     = 16
	maxExhaustiveSteps = 100000
)

// Serialized reports whether the schedule lets one worker run at a time.
func (s Schedule) Serialized() bool {
	switch s.Kind {
	case "script", "random", "pct", "exhaustive":
		return true
	}
	return false
}

// ScriptFor returns the script steps for a strategy.
func (s Schedule) ScriptFor(strategy string) []string {
	if steps, ok := s.PerStrategy[strategy]; ok {
		return steps
	}
	return s.Steps
}

// serialSchedule checks the fields of a serialized schedule and fills in
// their defaults. kindFields has refused the fields of other kinds.
func (c *checker) serialSchedule() error {
	sc := &c.s.Schedule
	switch sc.Kind {
	case "script":
		return c.script()
	case "pct":
		if sc.Depth == 0 {
			sc.Depth = defaultDepth
		}
		if sc.Depth < 1 || sc.Depth > 10 {
			return c.fail("schedule.depth", "must be from 1 to 10, not %d", sc.Depth)
		}
		if sc.MaxSteps == 0 {
			sc.MaxSteps = stepsPerWorker * c.s.Workers
		}
		if sc.MaxSteps < 1 {
			return c.fail("schedule.max_steps", "must be positive")
		}
	case "exhaustive":
		return c.exhaustive()
	}
	return nil
}

func (c *checker) script() error {
	sc := &c.s.Schedule
	if len(sc.Steps) == 0 && len(sc.PerStrategy) == 0 {
		return c.fail("schedule.steps", "kind script needs steps")
	}
	lists := map[string][]string{"": sc.Steps}
	for name, steps := range sc.PerStrategy {
		if !slices.Contains(c.s.Strategies, name) {
			return c.fail("schedule.per_strategy."+name, "%q is not one of the "+
				"scenario's strategies", name)
		}
		lists[name] = steps
	}
	for name, items := range lists {
		field := "schedule.steps"
		if name != "" {
			field = "schedule.per_strategy." + name
		}
		steps, err := schedule.ParseScript(items)
		var se *schedule.StepError
		if errors.As(err, &se) {
			return c.fail(fmt.Sprintf("%s[%d]", field, se.Index), "%v", err)
		}
		if err != nil {
			return c.fail(field, "%v", err)
		}
		for _, st := range steps {
			if err := c.worker(field, st.Worker); err != nil {
				return err
			}
		}
	}
	for _, st := range c.s.Strategies {
		if err := c.scriptPasses(st); err != nil {
			return err
		}
	}
	return nil
}

// scriptPasses checks that strategy passes every checkpoint its script
// names: a step it could never take is an error in the scenario.
func (c *checker) scriptPasses(strategy string) error {
	sc := &c.s.Schedule
	field := "schedule.steps"
	if _, ok := sc.PerStrategy[strategy]; ok {
		field = "schedule.per_strategy." + strategy
	}
	if len(sc.ScriptFor(strategy)) == 0 {
		return c.fail(field, "no steps for strategy %s", strategy)
	}
	steps, _ := schedule.ParseScript(sc.ScriptFor(strategy))
	for _, st := range steps {
		if st.At == "" {
			continue
		}
		if err := c.passes(field, st.At, strategy); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) exhaustive() error {
	sc := &c.s.Schedule
	if sc.MaxRuns == 0 {
		sc.MaxRuns = defaultMaxRuns
	}
	if sc.MaxRuns < 1 || sc.MaxRuns > maxExhaustiveSteps {
		return c.fail("schedule.max_runs", "must be from 1 to %d, not %d",
			maxExhaustiveSteps, sc.MaxRuns)
	}
	if len(sc.Window) == 0 {
		return nil
	}
	if len(sc.Window) != 2 {
		return c.fail("schedule.window", "give two checkpoints: [from, to]")
	}
	for i, n := range sc.Window {
		if !checkpoint.Known(checkpoint.Name(n)) {
			return c.fail(fmt.Sprintf("schedule.window[%d]", i),
				"unknown checkpoint %q (known: %s)", n, knownCheckpoints())
		}
	}
	if slices.Index(checkpoint.All, checkpoint.Name(sc.Window[0])) >
		slices.Index(checkpoint.All, checkpoint.Name(sc.Window[1])) {
		return c.fail("schedule.window", "%s comes after %s in the flow",
			sc.Window[0], sc.Window[1])
	}
	return nil
}
