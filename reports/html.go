package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
)

// htmlMostRuns bounds the failing runs drawn per strategy; the JSON
// report has every run.
const htmlMostRuns = 3

// htmlMostPassingEvents bounds the events of a passing run drawn for
// comparison: a long passing run would only make the page slow.
const htmlMostPassingEvents = 300

var (
	//go:embed html/report.tmpl
	htmlTemplate string
	//go:embed html/report.css
	htmlCSS string
	//go:embed html/report.js
	htmlJS string
)

var htmlPageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f1":       func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"add":      func(a float64, b int) float64 { return a + float64(b) },
	"runList":  runList,
	"plural":   plural,
	"noteIcon": noteIcon,
	"short":    shortIDs,
	// Room for the sequence and time columns, and 14em per lane.
	"laneWidth": func(lanes int) int { return 9 + 14*lanes },
	"entryArgs": func(lane string, e *laneEntry) entryArgs { return entryArgs{lane, e} },
}).Parse(htmlTemplate))

// entryArgs hands the entry template an entry and its lane.
type entryArgs struct {
	Lane string
	E    *laneEntry
}

// noteIcon gives a note a sign that reads at a glance.
func noteIcon(note string) string {
	switch {
	case isHold(note):
		return "‖"
	case isRelease(note):
		return "▶"
	case note == "finished":
		return "■"
	}
	return "•"
}

// HTML writes results as one self-contained HTML page, with no request to
// any network: the outcome, a summary table per scenario, what broke and
// how to replay it, and swimlanes of each failing run (up to three per
// strategy) and of the first run of each strategy that never failed. A
// swimlane has a column per worker with its steps in the order they
// happened, what each step sent (a Redis command, a row) and got back,
// when the simulator held or released the worker, the webhooks it
// delivered, and the events at which a property broke.
func HTML(w io.Writer, results []sim.ScenarioResult) error {
	if err := htmlPageTemplate.Execute(w, pageOf(results)); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// htmlPage is what the template draws.
type htmlPage struct {
	OK        bool
	Headline  string
	Summary   string
	Scenarios []htmlScenario
	Problems  []htmlProblem
	CSS       template.CSS
	JS        template.JS
}

type htmlScenario struct {
	ID          string
	Name        string
	Path        string
	Description string
	Backend     string
	Workers     int
	Duration    string
	OK          bool
	Strategies  []htmlStrategy
	Runs        []htmlRun
}

// htmlStrategy is one row of a scenario's summary table.
type htmlStrategy struct {
	Name, Verdicts, Stored, Webhooks, Expectation, Replay string
	Runs                                                  int
	OK                                                    bool
	Anchor                                                string // first drawn run
}

// htmlProblem is one strategy that did not meet its expectation.
type htmlProblem struct {
	Scenario, Strategy, Replay, Anchor string
	Lines                              []grouped
	Broken                             []brokenProperty
}

// htmlRun is one drawn run.
type htmlRun struct {
	ID, Strategy, Verdict, Duration, Why, Order string
	Run                                         int
	Open, StrategyOK                            bool
	Findings                                    []check.Finding
	Broken                                      []check.Property
	Tallies                                     []check.Tally
	Stuck, JobErrors                            []string
	Omitted                                     int // failing runs not drawn
	Lanes                                       swimlane
	Timeline                                    timeline
	Replay                                      string
}

func pageOf(results []sim.ScenarioResult) htmlPage {
	n, passed, runs := totals(results)
	p := htmlPage{OK: passed == n, CSS: template.CSS(htmlCSS), JS: template.JS(htmlJS),
		Summary: fmt.Sprintf("%d %s, %d %s", n, plural(n, "scenario", "scenarios"),
			runs, plural(runs, "run", "runs"))}
	p.Headline = "Every expectation held"
	if !p.OK {
		p.Headline = fmt.Sprintf("%d of %d %s did not meet their expectations",
			n-passed, n, plural(n, "scenario", "scenarios"))
	}
	for i, r := range results {
		sc := scenarioOf(i, r)
		p.Scenarios = append(p.Scenarios, sc)
		for j, sr := range r.Strategies {
			if !sc.Strategies[j].OK {
				p.Problems = append(p.Problems, htmlProblem{Scenario: r.Scenario,
					Strategy: sr.Strategy, Replay: sc.Strategies[j].Replay,
					Anchor: sc.Strategies[j].Anchor, Lines: groupByRun(gateProblems(sr)),
					Broken: brokenOf(sr)})
			}
		}
	}
	return p
}

func scenarioOf(i int, r sim.ScenarioResult) htmlScenario {
	sc := htmlScenario{ID: fmt.Sprintf("s%d", i), Name: r.Scenario, Path: r.Path,
		Description: r.Description, Backend: r.Backend, Workers: r.Workers,
		Duration: r.Duration.Round(time.Millisecond).String(), OK: r.Held}
	for j, sr := range r.Strategies {
		row := htmlStrategy{Name: sr.Strategy, Runs: len(sr.Trials),
			Verdicts: verdictCounts(sr), Stored: storedSpan(sr),
			Webhooks: webhookSpan(sr), Expectation: expectationWords(sr),
			Replay: ReplayCommand(r, sr.Strategy), OK: gatePassed(sr)}
		sc.OK = sc.OK && row.OK
		drawn := drawnRuns(fmt.Sprintf("%s-%d", sc.ID, j), sr, row)
		if len(drawn) > 0 {
			row.Anchor = drawn[0].ID
		}
		sc.Strategies = append(sc.Strategies, row)
		sc.Runs = append(sc.Runs, drawn...)
	}
	return sc
}

// drawnRuns picks the runs of sr to draw: its failing runs, up to
// htmlMostRuns, or else its first run, folded away, unless it is long.
func drawnRuns(id string, sr sim.StrategyResult, row htmlStrategy) []htmlRun {
	var out []htmlRun
	failing := 0
	for _, t := range sr.Trials {
		if t.Judgement.Verdict == check.Pass {
			continue
		}
		failing++
		if failing <= htmlMostRuns {
			out = append(out, runOf(id, sr, t, row, "failing run"))
		}
	}
	if len(out) > 0 {
		out[len(out)-1].Omitted = failing - len(out)
		return out
	}
	if len(sr.Trials) > 0 && len(sr.Trials[0].Events) <= htmlMostPassingEvents {
		r := runOf(id, sr, sr.Trials[0], row, "first run, every run passed")
		r.Open = false
		out = append(out, r)
	}
	return out
}

func runOf(id string, sr sim.StrategyResult, t sim.Trial, row htmlStrategy,
	why string) htmlRun {
	lanes := swimlaneOf(t)
	return htmlRun{ID: fmt.Sprintf("%s-r%d", id, t.Run), Strategy: sr.Strategy,
		Run: t.Run, Verdict: verdictName(t.Judgement.Verdict), Why: why,
		Duration: t.Duration.Round(time.Microsecond).String(), Order: t.Order,
		Open: true, StrategyOK: row.OK, Findings: t.Judgement.Findings,
		Broken:  t.Judgement.Broken,
		Tallies: t.Judgement.Tallies, Stuck: t.Stuck, JobErrors: t.JobErrors,
		Lanes: lanes, Timeline: timelineOf(t, lanes.Lanes), Replay: row.Replay}
}
