package reports_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/reports"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
)

// recorded reads testdata/results.json: the JSON report of two real
// scenarios. c01-original-race held (legacy broke as it must, setnx did
// not); not-held held legacy to one message and one webhook, which it
// could not keep in either of its two runs.
func recorded(tb testing.TB) []sim.ScenarioResult {
	tb.Helper()
	b, err := os.ReadFile("testdata/results.json")
	require.NoError(tb, err)
	var doc reports.Document
	require.NoError(tb, json.Unmarshal(b, &doc))
	require.Len(tb, doc.Results, 2)
	return doc.Results
}

func render(tb testing.TB, write func(*bytes.Buffer) error) string {
	tb.Helper()
	var buf bytes.Buffer
	require.NoError(tb, write(&buf))
	return buf.String()
}

func TestMarkdownShowsAVerdictTablePerScenarioAndHowToReplayWhatFailed(t *testing.T) {
	results := recorded(t)
	md := render(t, func(b *bytes.Buffer) error { return reports.Markdown(b, results) })

	require.Contains(t, md, "### dedupsim: ❌ 1 of 2 scenarios did not meet their expectations")
	require.Contains(t, md, "| strategy | runs | verdicts | stored messages | webhook ids | expectation |")
	require.Contains(t, md, "| `legacy` | 1 | fail 1 | 2 | 2 | ✅ held: broke as expected")
	require.Contains(t, md, "| `setnx` | 1 | pass 1 | 1 | 1 | ✅ held |")
	require.Contains(t, md, "| `legacy` | 2 | fail 2 | 2 | 2 | ❌ NOT HELD |")

	// The failing strategy: which message, which property, what was seen.
	require.Contains(t, md, "#### ❌ `not-held` / `legacy` did not meet its expectation")
	require.Regexp(t, "\\| `wamid\\.\\S+#0` \\| no-duplicate \\| 2 stored messages \\| 1, 2 \\|", md)
	require.Contains(t, md, "messages stored: expected 1, saw 2 (runs 1, 2)")
	require.Contains(t, md, "```sh\ndedupsim run --strategy legacy testdata/not-held.yaml\n```")
	// Strategies that met their expectation get no replay.
	require.NotContains(t, md, "--strategy setnx")
}

func TestMarkdownNamesAShippedScenarioByItsName(t *testing.T) {
	r := recorded(t)[0]
	require.Equal(t, "dedupsim run --strategy legacy c01-original-race",
		reports.ReplayCommand(r, "legacy"))
	r.Path, r.Backend = "my dir/race.yaml", "containers"
	require.Equal(t, "dedupsim run --backend containers --strategy legacy 'my dir/race.yaml'",
		reports.ReplayCommand(r, "legacy"))
}

func parseJUnit(tb testing.TB, results []sim.ScenarioResult) reports.JUnitSuites {
	tb.Helper()
	out := render(tb, func(b *bytes.Buffer) error { return reports.JUnit(b, results) })
	require.True(tb, strings.HasPrefix(out, "<?xml"), out)
	var doc reports.JUnitSuites
	require.NoError(tb, xml.Unmarshal([]byte(out), &doc))
	return doc
}

func TestJUnitHasOneCasePerScenarioAndStrategyAndFailsWhereExpectationsDidNotHold(t *testing.T) {
	doc := parseJUnit(t, recorded(t))

	require.Len(t, doc.Suites, 2)
	require.Equal(t, 4, doc.Tests)
	require.Equal(t, 1, doc.Failures)
	cases := map[string]reports.JUnitCase{}
	for _, s := range doc.Suites {
		require.Equal(t, len(s.Cases), s.Tests)
		for _, c := range s.Cases {
			require.Equal(t, s.Name, c.ClassName)
			cases[c.Name] = c
		}
	}
	require.Len(t, cases, 4)
	for _, name := range []string{"c01-original-race/legacy", "c01-original-race/setnx",
		"not-held/setnx"} {
		require.Nil(t, cases[name].Failure, name)
	}

	f := cases["not-held/legacy"].Failure
	require.NotNil(t, f)
	require.Equal(t, "expectation", f.Type)
	require.Contains(t, f.Message, "messages stored: expected 1, saw 2")
	require.Contains(t, f.Text, "no-duplicate: 2 stored messages (runs 1, 2)")
	require.Contains(t, f.Text, "Replay: dedupsim run --strategy legacy testdata/not-held.yaml")
	require.Regexp(t, `^\d+\.\d{3}$`, cases["not-held/legacy"].Time)
	require.Contains(t, cases["c01-original-race/legacy"].SystemOut, "fail 1")
}

func TestJUnitNeverPassesARunWithoutAVerdict(t *testing.T) {
	// Held claims success, but one run timed out and another has no
	// verdict at all: the case must fail regardless.
	r := sim.ScenarioResult{Scenario: "s", Path: "s.yaml", Backend: "embedded", Held: true,
		Strategies: []sim.StrategyResult{
			{Strategy: "timed-out", Held: true, Trials: []sim.Trial{
				{Run: 1, Judgement: check.Judgement{Verdict: check.Pass}},
				{Run: 2, Judgement: check.Judgement{Verdict: check.Unknown}},
			}},
			{Strategy: "blank", Held: true, Trials: []sim.Trial{{Run: 1}}},
			{Strategy: "empty", Held: true},
		}}
	doc := parseJUnit(t, []sim.ScenarioResult{r})

	require.Equal(t, 3, doc.Failures)
	texts := map[string]string{}
	for _, c := range doc.Suites[0].Cases {
		require.NotNil(t, c.Failure, c.Name)
		texts[c.Name] = c.Failure.Text
	}
	require.Contains(t, texts["s/timed-out"], "verdict unknown (run 2)")
	require.Contains(t, texts["s/blank"], "verdict missing")
	require.Contains(t, texts["s/empty"], "no runs were recorded")

	md := render(t, func(b *bytes.Buffer) error {
		return reports.Markdown(b, []sim.ScenarioResult{r})
	})
	require.Contains(t, md, "❌ 1 of 1 scenario did not meet their expectations")
}

func TestHTMLIsOnePageThatLoadsNothing(t *testing.T) {
	page := render(t, func(b *bytes.Buffer) error { return reports.HTML(b, recorded(t)) })

	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
	require.Contains(t, page, "Content-Security-Policy")
	require.Contains(t, page, "default-src 'none'")
	for _, ref := range []string{`src="http`, `href="http`, `<link rel="stylesheet"`,
		"@import", "url(http"} {
		require.NotContains(t, page, ref)
	}
}

func TestHTMLDrawsALanePerWorkerAndMarksWherePropertiesBroke(t *testing.T) {
	page := render(t, func(b *bytes.Buffer) error { return reports.HTML(b, recorded(t)) })

	require.Contains(t, page, `<th data-lane="W1">W1</th><th data-lane="W2">W2</th>`)
	require.Contains(t, page, "held at barrier")
	require.Contains(t, page, "released from barrier")
	require.Contains(t, page, "SETEX dedupsim:")
	require.Regexp(t, `message\.insert</span> <span class="res ok">1 row \(id \d\)`, page)
	require.Regexp(t, `no-duplicate broke:</b> wamid\.\S+#0 now has 2 committed rows \(ids \d, \d\)`,
		page)
	require.Regexp(t, `one-webhook broke:</b> /webhooks/crm got a second webhook id`, page)
	require.Contains(t, page, "is one of several rows for")
	require.Contains(t, page, "delivered msg_1_")

	// Failing runs are drawn open; a strategy that never failed shows its
	// first run folded away.
	require.Contains(t, page, `id="s1-0-r1" open>`)
	require.Contains(t, page, `id="s1-0-r2" open>`)
	require.Regexp(t, `<details class="run pass" id="s0-1-r1">`, page)
	require.Contains(t, page, "Replay: <code>dedupsim run --strategy legacy testdata/not-held.yaml</code>")
}

func TestHTMLEscapesWhatRunsRecorded(t *testing.T) {
	results := recorded(t)
	results[1].Description = `<script>alert("x")</script>`
	page := render(t, func(b *bytes.Buffer) error { return reports.HTML(b, results) })
	require.NotContains(t, page, `<script>alert`)
	require.Contains(t, page, "&lt;script&gt;alert")
}
