package reports

import (
	"io"
	"strings"

	"github.com/dedupsim/dedupsim/sim"
)

// markdownMostLines bounds the lines listed per failing strategy, so the
// report stays within what a pull-request comment holds.
const markdownMostLines = 10

// Markdown writes results as GitHub-flavoured Markdown that fits a
// pull-request comment: the overall outcome, a verdict table per scenario
// with one row per strategy, and for each strategy that did not meet its
// expectation the message parts and properties that broke, what the runs
// saw, and the command line that replays it.
func Markdown(w io.Writer, results []sim.ScenarioResult) error {
	p := &printer{w: w}
	n, passed, runs := totals(results)
	if passed == n {
		p.line("### dedupsim: ✅ every expectation held")
	} else {
		p.line("### dedupsim: ❌ %d of %d %s did not meet their expectations",
			n-passed, n, plural(n, "scenario", "scenarios"))
	}
	p.line("")
	p.line("%d %s, %d %s.", n, plural(n, "scenario", "scenarios"),
		runs, plural(runs, "run", "runs"))
	for _, r := range results {
		p.markdownScenario(r)
	}
	for _, r := range results {
		for _, sr := range r.Strategies {
			if !gatePassed(sr) {
				p.markdownFailure(r, sr)
			}
		}
	}
	return p.err
}

func (p *printer) markdownScenario(r sim.ScenarioResult) {
	p.line("")
	p.line("#### `%s` (backend %s, %d workers)", mdCode(r.Scenario), r.Backend, r.Workers)
	if r.Description != "" {
		p.line("")
		p.line("%s", mdCell(r.Description))
	}
	p.line("")
	p.line("| strategy | runs | verdicts | stored messages | webhook ids | expectation |")
	p.line("|---|--:|---|---|---|---|")
	for _, sr := range r.Strategies {
		mark := "✅"
		if !gatePassed(sr) {
			mark = "❌"
		}
		p.line("| `%s` | %d | %s | %s | %s | %s %s |", mdCode(sr.Strategy),
			len(sr.Trials), mdCell(verdictCounts(sr)), mdCell(storedSpan(sr)),
			mdCell(webhookSpan(sr)), mark, mdCell(expectationWords(sr)))
	}
}

// markdownFailure lists what broke in one strategy and how to replay it.
func (p *printer) markdownFailure(r sim.ScenarioResult, sr sim.StrategyResult) {
	p.line("")
	p.line("#### ❌ `%s` / `%s` did not meet its expectation",
		mdCode(r.Scenario), mdCode(sr.Strategy))
	p.line("")
	p.line("Why:")
	p.line("")
	for i, g := range groupByRun(gateProblems(sr)) {
		if i == markdownMostLines {
			p.line("- … and more: see the JSON or HTML report")
			break
		}
		p.line("- %s", mdCell(g.String()))
	}
	if broken := brokenOf(sr); len(broken) > 0 {
		p.line("")
		p.line("What the runs broke, per message:")
		p.line("")
		p.line("| message | property | seen | runs |")
		p.line("|---|---|---|---|")
		for i, b := range broken {
			if i == markdownMostLines {
				p.line("| … | %d more | | |", len(broken)-i)
				break
			}
			subject := "—"
			if b.Subject != "" {
				subject = "`" + mdCode(b.Subject) + "`"
			}
			p.line("| %s | %s | %s | %s |", subject, b.Property, mdCell(b.Seen),
				runList(b.Runs))
		}
	}
	p.line("")
	p.line("Replay:")
	p.line("")
	p.line("```sh")
	p.line("%s", ReplayCommand(r, sr.Strategy))
	p.line("```")
}

// storedSpan gives the stored rows per message part over every run, as
// "2" when all parts agree or "part 2, part 1-2" when they do not.
func storedSpan(sr sim.StrategyResult) string {
	var out []string
	for _, part := range partsOf(sr) {
		out = append(out, messageRange(sr, part))
	}
	return joinSame(out)
}

// webhookSpan gives the distinct webhook ids per message part over every
// run, as storedSpan does.
func webhookSpan(sr sim.StrategyResult) string {
	var out []string
	for _, part := range partsOf(sr) {
		out = append(out, webhookRange(sr, part))
	}
	return joinSame(out)
}

// joinSame writes one value when every part agrees, else each part's.
func joinSame(values []string) string {
	if len(values) == 0 {
		return "-"
	}
	for _, v := range values[1:] {
		if v != values[0] {
			return strings.Join(values, " / ")
		}
	}
	return values[0]
}

// mdCell makes text safe inside a table cell: no pipes, no line breaks.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", " ")
}

// mdCode makes text safe inside a code span within a table cell.
func mdCode(s string) string {
	return mdCell(strings.ReplaceAll(s, "`", "'"))
}
