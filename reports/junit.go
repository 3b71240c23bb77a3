package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dedupsim/dedupsim/sim"
)

// JUnitSuites is the root of a JUnit XML report.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one scenario.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []JUnitProperty `xml:"properties>property,omitempty"`
	Cases      []JUnitCase     `xml:"testcase"`
}

// JUnitProperty is a name and value attached to a suite.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one strategy of one scenario, named "<scenario>/<strategy>".
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitFailure says why a case failed and how to replay it.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes results as JUnit XML: one testsuite per scenario and one
// testcase per scenario and strategy. A strategy that did not meet its
// expectation, or has a run without a pass or fail verdict, is a failure
// that says what broke and the command line that replays it. Times are in
// seconds.
func JUnit(w io.Writer, results []sim.ScenarioResult) error {
	doc := JUnitSuites{Name: "dedupsim"}
	var total time.Duration
	for _, r := range results {
		s := junitSuite(r)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Suites = append(doc.Suites, s)
		total += r.Duration
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	return nil
}

func junitSuite(r sim.ScenarioResult) JUnitSuite {
	s := JUnitSuite{Name: r.Scenario, Time: seconds(r.Duration),
		Properties: []JUnitProperty{
			{Name: "path", Value: r.Path},
			{Name: "backend", Value: r.Backend},
			{Name: "workers", Value: fmt.Sprint(r.Workers)},
		}}
	for _, sr := range r.Strategies {
		c := JUnitCase{Name: r.Scenario + "/" + sr.Strategy, ClassName: r.Scenario,
			Time: seconds(trialTime(sr)), SystemOut: junitSummary(sr)}
		if !gatePassed(sr) {
			c.Failure = junitFailure(r, sr)
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	return s
}

func junitFailure(r sim.ScenarioResult, sr sim.StrategyResult) *JUnitFailure {
	problems := groupByRun(gateProblems(sr))
	var b strings.Builder
	b.WriteString("Expectation not met:\n")
	for _, g := range problems {
		fmt.Fprintf(&b, "  %s\n", g)
	}
	if broken := brokenOf(sr); len(broken) > 0 {
		b.WriteString("Broken properties:\n")
		for _, p := range broken {
			fmt.Fprintf(&b, "  %s: %s (%s %s)\n",
				strings.TrimSpace(p.Subject+" "+p.Property), p.Seen,
				plural(len(p.Runs), "run", "runs"), runList(p.Runs))
		}
	}
	fmt.Fprintf(&b, "Replay: %s\n", ReplayCommand(r, sr.Strategy))
	msg := "expectation not met"
	if len(problems) > 0 {
		msg = problems[0].Text
	}
	return &JUnitFailure{Message: msg, Type: "expectation", Text: b.String()}
}

// junitSummary says what the runs came to, for a passing case too.
func junitSummary(sr sim.StrategyResult) string {
	return fmt.Sprintf("verdicts: %s; stored messages: %s; webhook ids: %s; %s\n",
		verdictCounts(sr), storedSpan(sr), webhookSpan(sr), expectationWords(sr))
}

func trialTime(sr sim.StrategyResult) time.Duration {
	var d time.Duration
	for _, t := range sr.Trials {
		d += t.Duration
	}
	return d
}

// seconds writes d in seconds with millisecond precision, as JUnit wants.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}
