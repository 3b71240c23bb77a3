// Package reports writes what scenario runs showed: a terminal summary and
// an HTML page with swimlanes for people, a JSON document for machines,
// JUnit XML for CI test views, and Markdown for a pull-request comment.
// Every report writes to an io.Writer; README.md describes each, and the
// JSON layout with its stability rule.
package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
)

// Terminal writes a summary of each scenario: per strategy its runs and
// verdicts, what each message part came to, whether the expectation held
// and, for the first failing run, the order the workers took.
func Terminal(w io.Writer, results []sim.ScenarioResult) error {
	p := &printer{w: w}
	for i, r := range results {
		if i > 0 {
			p.line("")
		}
		p.scenario(r)
	}
	p.line("")
	p.total(results)
	return p.err
}

// printer remembers the first write error so the report reads straight.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

func (p *printer) scenario(r sim.ScenarioResult) {
	runs := 0
	if len(r.Strategies) > 0 {
		runs = len(r.Strategies[0].Trials)
	}
	p.line("scenario %s: %d %s, %d %s per configuration, backend %s, %s",
		r.Scenario, r.Workers, plural(r.Workers, "worker", "workers"),
		runs, plural(runs, "run", "runs"), r.Backend,
		r.Duration.Round(time.Millisecond))
	if r.Description != "" {
		p.line("  %s", r.Description)
	}
	p.line("")
	p.table(r)
	p.coverage(r)
	for _, sr := range r.Strategies {
		p.mismatches(sr)
	}
	for _, sr := range r.Strategies {
		if t, ok := firstFailing(sr); ok {
			p.line("")
			p.order(sr.Strategy, t)
			p.replay(r, t)
		}
	}
}

// table writes one row per strategy and message part.
func (p *printer) table(r sim.ScenarioResult) {
	if p.err != nil {
		return
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  strategy\tverdicts\tmessage\tmessages\twebhooks\texpectation")
	for _, sr := range r.Strategies {
		first := true
		for _, part := range partsOf(sr) {
			name, verdicts, held := "", "", ""
			if first {
				name, verdicts, held = sr.Strategy, verdictCounts(sr), expectation(sr)
				first = false
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", name, verdicts,
				shortPart(part), messageRange(sr, part), webhookRange(sr, part), held)
		}
	}
	p.err = tw.Flush()
}

func (p *printer) mismatches(sr sim.StrategyResult) {
	const most = 5
	if len(sr.Mismatches) == 0 {
		return
	}
	p.line("")
	p.line("  %s did not meet its expectation:", sr.Strategy)
	for i, m := range sr.Mismatches {
		if i == most {
			p.line("    … and %d more", len(sr.Mismatches)-most)
			break
		}
		p.line("    %s", m)
	}
}

func (p *printer) total(results []sim.ScenarioResult) {
	held, trials := 0, 0
	for _, r := range results {
		if r.Held {
			held++
		}
		for _, sr := range r.Strategies {
			trials += len(sr.Trials)
		}
	}
	if held == len(results) {
		p.line("result: every expectation held (%d %s, %d %s)",
			len(results), plural(len(results), "scenario", "scenarios"), trials,
			plural(trials, "run", "runs"))
		return
	}
	p.line("result: %d of %d %s did not meet their expectations (%d %s)",
		len(results)-held, len(results), plural(len(results), "scenario", "scenarios"), trials,
		plural(trials, "run", "runs"))
}

// partsOf lists every message part any run of sr tallied.
func partsOf(sr sim.StrategyResult) []check.Part {
	seen := map[check.Part]bool{}
	var out []check.Part
	for _, t := range sr.Trials {
		for _, tl := range t.Judgement.Tallies {
			if !seen[tl.Part] {
				seen[tl.Part] = true
				out = append(out, tl.Part)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func verdictCounts(sr sim.StrategyResult) string {
	counts := map[check.Verdict]int{}
	for _, t := range sr.Trials {
		counts[t.Judgement.Verdict]++
	}
	var parts []string
	for _, v := range []check.Verdict{check.Pass, check.Fail, check.Unknown} {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", v, counts[v]))
		}
	}
	return strings.Join(parts, ", ")
}

func expectation(sr sim.StrategyResult) string {
	switch {
	case sr.Expectation.Observe && sr.Held:
		return "observed"
	case sr.Held:
		return "held"
	}
	return "NOT HELD"
}

// messageRange gives the stored rows of part over the runs: "2" or "1-2".
func messageRange(sr sim.StrategyResult, part check.Part) string {
	var ns []int
	for _, t := range sr.Trials {
		ns = append(ns, tallyOf(t, part).Messages)
	}
	return span(ns)
}

// webhookRange gives the distinct webhook ids of part over the runs, per
// subscriber when there are several, and how many deliveries carried them
// when some id was delivered more than once.
func webhookRange(sr sim.StrategyResult, part check.Part) string {
	ids, posts := map[string][]int{}, map[string][]int{}
	for _, t := range sr.Trials {
		tl := tallyOf(t, part)
		for _, s := range subscribersOf(sr) {
			ids[s] = append(ids[s], tl.WebhookIDs[s])
			posts[s] = append(posts[s], tl.Deliveries[s])
		}
	}
	var parts []string
	for _, s := range subscribersOf(sr) {
		text := span(ids[s])
		if span(posts[s]) != text {
			text += fmt.Sprintf(" (%s deliveries)", span(posts[s]))
		}
		if len(ids) > 1 {
			text = s + " " + text
		}
		parts = append(parts, text)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func subscribersOf(sr sim.StrategyResult) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range sr.Trials {
		for _, s := range t.Subscribers {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

func tallyOf(t sim.Trial, part check.Part) check.Tally {
	for _, tl := range t.Judgement.Tallies {
		if tl.Part == part {
			return tl
		}
	}
	return check.Tally{Part: part}
}

func span(ns []int) string {
	if len(ns) == 0 {
		return "-"
	}
	lo, hi := ns[0], ns[0]
	for _, n := range ns {
		lo, hi = min(lo, n), max(hi, n)
	}
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

// shortPart abbreviates a long provider id, keeping its ends.
func shortPart(p check.Part) string {
	id := p.SourceID
	if len(id) > 24 {
		id = id[:12] + "…" + id[len(id)-8:]
	}
	return fmt.Sprintf("%s#%d", id, p.Part)
}

func firstFailing(sr sim.StrategyResult) (sim.Trial, bool) {
	for _, t := range sr.Trials {
		if t.Judgement.Verdict != check.Pass {
			return t, true
		}
	}
	return sim.Trial{}, false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
