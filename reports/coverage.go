package reports

import (
	"fmt"
	"strings"

	"github.com/dedupsim/dedupsim/sim"
)

// coverage writes, per configuration run under a serialized scheduler,
// its runs, interleavings covered, failures and failure rate with its
// 95 % interval, and pct's detection bound.
func (p *printer) coverage(r sim.ScenarioResult) {
	first := true
	for _, sr := range r.Strategies {
		c := sr.Coverage
		if c == nil {
			continue
		}
		if first {
			p.line("")
			first = false
		}
		p.line("  %s under %s: %d %s, %d distinct %s (%d failing), %d %s, "+
			"failure rate %.3f (95 %% interval %.3f–%.3f)%s",
			sr.Strategy, c.Scheduler, c.Runs, plural(c.Runs, "run", "runs"),
			c.Interleavings, plural(c.Interleavings, "interleaving", "interleavings"),
			c.FailingInterleavings, c.Failures, plural(c.Failures, "failure", "failures"),
			c.Rate, c.Low, c.High, coverageNote(c))
	}
}

func coverageNote(c *sim.Coverage) string {
	var notes []string
	if c.Bound > 0 {
		notes = append(notes, fmt.Sprintf("pct bound %.3g per run, %d runs for 99 %%",
			c.Bound, c.RunsFor99))
	}
	if c.Scheduler == "exhaustive" {
		if c.Complete {
			notes = append(notes, "complete")
		} else {
			notes = append(notes, "incomplete: stopped at max_runs")
		}
		notes = append(notes, fmt.Sprintf("%d pruned mid-run", c.Redundant))
	}
	if len(notes) == 0 {
		return ""
	}
	return "; " + strings.Join(notes, "; ")
}

// replay writes the command that replays a failing serialized run.
func (p *printer) replay(r sim.ScenarioResult, t sim.Trial) {
	if cmd := sim.ReplayCommand(shellQuote(ScenarioArg(r)), t); cmd != "" {
		p.line("    replay: %s", cmd)
	}
}
