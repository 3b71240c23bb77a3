package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/internal/testenv"
)

// tiny is a benchmark small enough for a test: two strategies, two worker
// counts, 24 deliveries a run, a quarter of them copies.
func tiny() Config {
	return Config{Strategies: []string{"none", "setnx"}, Workers: []int{1, 2},
		Deliveries: 24, DuplicateRate: 0.25, MaxGap: 5 * time.Millisecond,
		Repeats: 2, Senders: 3, SkipHook: true}
}

// tinyReport is the tiny benchmark's report, run once per test binary.
var tinyReport struct {
	sync.Mutex
	r *Report
}

// runTiny returns the tiny benchmark's report; the tests only read it.
func runTiny(t *testing.T) *Report {
	t.Helper()
	tinyReport.Lock()
	defer tinyReport.Unlock()
	if tinyReport.r != nil {
		return tinyReport.r
	}
	r, err := Run(t.Context(), testenv.Backend(t), tiny())
	require.NoError(t, err)
	// The hook is measured for seconds; a made-up cost draws its lines.
	r.Hook = &HookCost{NilNs: 1.5, RecordingNs: 420, RecordingAllocs: 2,
		RecordingBytes: 300}
	tinyReport.r = r
	return r
}

func TestATinyBenchmarkMeasuresEveryCellAndCountsWhatTheGuardsLetThrough(t *testing.T) {
	r := runTiny(t)
	require.Len(t, r.Cells, 2*2*2+2, "flow and floor per strategy and workers, "+
		"and the queue per workers")
	for _, c := range r.Cells {
		require.Len(t, c.Samples, 2, c.Key())
		require.Positive(t, c.Throughput.Mean, c.Key())
		require.Zero(t, c.Correctness.Errors, "%s: %+v", c.Key(), c.Samples)
		require.Zero(t, c.Correctness.Lost, c.Key())
		require.Contains(t, c.Latency, "total", c.Key())
		require.Equal(t, 48, c.Correctness.Messages+copiesOf(c), c.Key())
		switch {
		case c.Kind == KindQueue:
		case c.Strategy == "none":
			// No guard: every copy is stored again.
			require.Equal(t, 12, c.Correctness.Duplicates, c.Key())
			require.Equal(t, 48, c.Correctness.Webhooks, c.Key())
		default:
			require.Zero(t, c.Correctness.Duplicates, c.Key())
			require.Equal(t, 36, c.Correctness.Webhooks, c.Key())
			require.Contains(t, c.Latency, "claim", c.Key())
		}
		if c.Kind == KindFlow {
			require.Positive(t, c.FloorRatio, c.Key())
		}
	}
}

// copiesOf is how many deliveries of a cell were copies: Messages counts
// the distinct messages fed, except in the queue's cell, which counts
// every job.
func copiesOf(c Cell) int {
	if c.Kind == KindQueue {
		return 0
	}
	return 12
}

func TestTheTerminalTableHasARowPerCellAndTheGoals(t *testing.T) {
	r := runTiny(t)
	var out bytes.Buffer
	require.NoError(t, Terminal(&out, r))
	text := out.String()
	for _, want := range []string{"strategy", "floor msg/s", "ratio", "p99 ms",
		"latency per phase at 2 workers", "checkpoint hook", "goals",
		"queue (take+complete)"} {
		require.Contains(t, text, want)
	}
	require.Len(t, regexp.MustCompile(`(?m)^  (none|setnx) +[12] +\d`).
		FindAllString(text, -1), 4, "a row per flow cell")
	_, phases, ok := strings.Cut(text, "latency per phase")
	require.True(t, ok)
	phases, _, _ = strings.Cut(phases, "checkpoint hook")
	require.Len(t, regexp.MustCompile(`(?m)^  (none|setnx) `).
		FindAllString(phases, -1), 2, "a phase row per strategy at 2 workers")
}

func TestTheJSONReportReadsBackAsTheSameReport(t *testing.T) {
	r := runTiny(t)
	var out bytes.Buffer
	require.NoError(t, JSON(&out, r))
	back, err := ReadJSON(&out)
	require.NoError(t, err)
	require.Equal(t, r.Cells, back.Cells)
	require.Equal(t, r.Workload, back.Workload)
	require.Equal(t, *r.Hook, *back.Hook)

	_, err = ReadJSON(strings.NewReader(`{"format": 99}`))
	require.ErrorIs(t, err, ErrFormat)
}

func TestTheMarkdownTablesHaveAsManyCellsInEveryRow(t *testing.T) {
	r := runTiny(t)
	var out bytes.Buffer
	require.NoError(t, Markdown(&out, r))
	tables := 0
	var cols int
	for line := range strings.SplitSeq(out.String(), "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(line, "|") - strings.Count(line, `\|`)
		if cols == 0 {
			cols = n
			tables++
		}
		require.Equal(t, cols, n, line)
	}
	require.Equal(t, 3, tables, "cells, phases and goals")
}

func TestTheHTMLPageIsSelfContainedWithWellFormedPlots(t *testing.T) {
	r := runTiny(t)
	var out bytes.Buffer
	require.NoError(t, HTML(&out, r))
	page := out.String()
	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
	require.NotRegexp(t, `(src|href)=`, page, "nothing loaded from anywhere")
	require.Equal(t, strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`),
		strings.Count(page, "http://"), "no address but the SVG namespace")

	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1)
	require.Len(t, svgs, 2+len(Series), "throughput, ratio, and a latency "+
		"distribution per series")
	for _, svg := range svgs {
		requireWellFormedXML(t, svg)
		require.Contains(t, svg, "<polyline")
	}
}

func requireWellFormedXML(t *testing.T, doc string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		require.NoError(t, err, doc)
	}
}

// The memory goal is set for 10,000 deliveries: a smaller run shows its
// peak but neither meets nor misses the goal.
func TestTheMemoryGoalIsJudgedOnlyAtItsDeliveries(t *testing.T) {
	r := &Report{Backend: "external", Cells: []Cell{
		{Kind: KindFlow, Strategy: "setnx", Workers: 64, PeakRSS: 40 << 20},
	}}
	rss := func() Goal {
		for _, g := range Goals(r) {
			if strings.HasPrefix(g.Name, "peak RSS") {
				return g
			}
		}
		t.Fatal("no memory goal")
		return Goal{}
	}
	r.Workload.Deliveries = 300
	g := rss()
	require.True(t, g.Unjudged)
	require.False(t, g.Met)
	require.Equal(t, "not judged", g.Result())
	require.Contains(t, g.Note, "measured at 300 deliveries")

	r.Workload.Deliveries = 10_000
	require.Equal(t, Goal{Name: "peak RSS at 64 workers", Target: "< 100 MB at 10,000 deliveries",
		Measured: "40 MB", Met: true}, rss())
	r.Cells[0].PeakRSS = 120 << 20
	require.Equal(t, "missed", rss().Result())
}
