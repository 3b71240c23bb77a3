package reports

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
)

// gatePassed says whether a strategy passes a CI gate: it met its
// expectation and every run ended with a verdict. A strategy with no runs,
// or with a run whose verdict is unknown or unrecognised, does not pass,
// whatever Held says.
func gatePassed(sr sim.StrategyResult) bool {
	return len(gateProblems(sr)) == 0
}

// gateProblems says, one line each, why a strategy does not pass the
// gate: its mismatches, plus runs whose verdict the mismatches missed.
func gateProblems(sr sim.StrategyResult) []string {
	out := append([]string(nil), sr.Mismatches...)
	if len(sr.Trials) == 0 {
		return append(out, "no runs were recorded")
	}
	if !sr.Held && len(out) == 0 {
		out = append(out, "the expectation did not hold")
	}
	for _, t := range sr.Trials {
		v := t.Judgement.Verdict
		if v == check.Pass || v == check.Fail {
			continue
		}
		line := fmt.Sprintf("run %d: verdict %s", t.Run, verdictName(v))
		if !mentionsRun(out, t.Run, "verdict") {
			out = append(out, line)
		}
	}
	return out
}

func verdictName(v check.Verdict) string {
	if v == "" {
		return "missing"
	}
	return string(v)
}

func mentionsRun(lines []string, run int, word string) bool {
	prefix := fmt.Sprintf("run %d: ", run)
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, word) {
			return true
		}
	}
	return false
}

// grouped is one line said by several runs.
type grouped struct {
	Text string
	Runs []int
}

// String writes the line with the runs that said it.
func (g grouped) String() string {
	if len(g.Runs) == 0 {
		return g.Text
	}
	return fmt.Sprintf("%s (%s %s)", g.Text, plural(len(g.Runs), "run", "runs"),
		runList(g.Runs))
}

// runPrefix matches the "run N: " that starts each mismatch.
var runPrefix = regexp.MustCompile(`^run (\d+): `)

// groupByRun folds lines that differ only in their "run N: " prefix into
// one, keeping the runs that said it, in first-seen order.
func groupByRun(lines []string) []grouped {
	var out []grouped
	index := map[string]int{}
	for _, l := range lines {
		text, run := l, 0
		if m := runPrefix.FindStringSubmatch(l); m != nil {
			run, _ = strconv.Atoi(m[1])
			text = l[len(m[0]):]
		}
		i, ok := index[text]
		if !ok {
			i = len(out)
			index[text] = i
			out = append(out, grouped{Text: text})
		}
		if run > 0 {
			out[i].Runs = append(out[i].Runs, run)
		}
	}
	return out
}

// brokenProperty is one property a run broke, for one message part (or
// contact), with what the run saw.
type brokenProperty struct {
	Subject  string // a message part such as "wamid…#0", or a contact
	Property string
	Seen     string
	Runs     []int
}

// brokenOf lists what the failing runs of sr broke, grouped over runs.
func brokenOf(sr sim.StrategyResult) []brokenProperty {
	var out []brokenProperty
	index := map[string]int{}
	for _, t := range sr.Trials {
		for _, f := range t.Judgement.Findings {
			subject, seen := splitFinding(t, f.Detail)
			key := string(f.Property) + "\x00" + subject + "\x00" + seen
			i, ok := index[key]
			if !ok {
				i = len(out)
				index[key] = i
				out = append(out, brokenProperty{Subject: subject,
					Property: string(f.Property), Seen: seen})
			}
			out[i].Runs = append(out[i].Runs, t.Run)
		}
	}
	return out
}

// splitFinding splits a finding's detail into what it is about (a message
// part the run tallied, or what precedes the first colon) and what the
// run saw.
func splitFinding(t sim.Trial, detail string) (subject, seen string) {
	for _, tl := range t.Judgement.Tallies {
		p := tl.Part.String() + ": "
		if strings.HasPrefix(detail, p) {
			return tl.Part.String(), detail[len(p):]
		}
	}
	if s, rest, ok := strings.Cut(detail, ": "); ok {
		return s, rest
	}
	return "", detail
}

// runList writes runs as "1, 2, 3" or "1–3" when they are consecutive.
func runList(runs []int) string {
	if len(runs) == 0 {
		return "-"
	}
	consecutive := true
	for i := 1; i < len(runs); i++ {
		consecutive = consecutive && runs[i] == runs[i-1]+1
	}
	if consecutive && len(runs) > 2 {
		return fmt.Sprintf("%d–%d", runs[0], runs[len(runs)-1])
	}
	parts := make([]string, len(runs))
	for i, r := range runs {
		parts[i] = strconv.Itoa(r)
	}
	return strings.Join(parts, ", ")
}

// totals counts scenarios, those that passed the gate, and runs.
func totals(results []sim.ScenarioResult) (scenarios, passed, runs int) {
	for _, r := range results {
		ok := len(r.Strategies) > 0
		for _, sr := range r.Strategies {
			ok = ok && gatePassed(sr)
			runs += len(sr.Trials)
		}
		if ok && r.Held {
			passed++
		}
	}
	return len(results), passed, runs
}

// expectationWords says in a few words how a strategy fared against its
// expectation.
func expectationWords(sr sim.StrategyResult) string {
	switch {
	case !gatePassed(sr):
		return "NOT HELD"
	case sr.Expectation.Observe:
		return "observed"
	case len(sr.Expectation.Broken) > 0:
		return "held: broke as expected (" +
			strings.Join(sr.Expectation.Broken, ", ") + ")"
	}
	return "held"
}

// Failure is a strategy of a scenario that did not pass: it missed its
// expectation, or a run of it ended without a verdict.
type Failure struct {
	Scenario string
	Strategy string
	// Problems say how, one line each; a line several runs said is given
	// once, with the runs that said it.
	Problems []string
	// Replay is the dedupsim command line that runs the strategy again.
	Replay string
}

// Failures lists the strategies of results that did not pass, in order:
// the same verdict the Markdown and JUnit reports give.
func Failures(results []sim.ScenarioResult) []Failure {
	var out []Failure
	for _, r := range results {
		for _, sr := range r.Strategies {
			if gatePassed(sr) {
				continue
			}
			f := Failure{Scenario: r.Scenario, Strategy: sr.Strategy,
				Replay: ReplayCommand(r, sr.Strategy)}
			for _, g := range groupByRun(gateProblems(sr)) {
				f.Problems = append(f.Problems, g.String())
			}
			out = append(out, f)
		}
	}
	return out
}
