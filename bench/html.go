package bench

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
)

// HTML writes r as one self-contained page: plots of throughput and of the
// floor ratio against workers, latency distributions, and the tables of
// the Markdown report. It loads nothing from the network.
func HTML(w io.Writer, r *Report) error {
	page := htmlPage{Title: "dedupsim bench: " + r.Backend + " backend",
		Workload: describeWorkload(r), Environment: describeEnvironment(r),
		Goals: Goals(r), Charts: charts(r), Rows: htmlRows(r),
		Phases: htmlPhases(r)}
	if r.Hook != nil {
		page.Hook = describeHook(r.Hook)
	}
	if err := pageTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("write HTML bench report: %w", err)
	}
	return nil
}

type htmlPage struct {
	Title, Workload, Environment, Hook string
	Goals                              []Goal
	Charts                             []template.HTML
	Rows                               [][]string
	Phases                             [][]string
}

// charts draws the page's plots.
func charts(r *Report) []template.HTML {
	var out []template.HTML
	add := func(c lineChart) {
		if len(c.Series) > 0 {
			// The markup is built by svg from escaped text only.
			out = append(out, template.HTML(c.svg()))
		}
	}
	add(throughputChart(r))
	add(ratioChart(r))
	for _, s := range Series {
		add(latencyChart(r, s))
	}
	return out
}

// strategies lists the report's flow strategies in order.
func strategies(r *Report) []string {
	var out []string
	for _, c := range r.Cells {
		if c.Kind == KindFlow && !slices.Contains(out, c.Strategy) {
			out = append(out, c.Strategy)
		}
	}
	return out
}

// workerTicks places worker counts on a log2 axis.
func workerTicks(r *Report) []tick {
	ws := slices.Clone(r.Workload.Workers)
	slices.Sort(ws)
	var out []tick
	for _, w := range ws {
		out = append(out, tick{X: math.Log2(float64(w)), Label: fmt.Sprint(w)})
	}
	return out
}

func throughputChart(r *Report) lineChart {
	c := lineChart{Title: "Throughput against workers (floor dashed)",
		XLabel: "workers", YLabel: "messages per second", XTicks: workerTicks(r)}
	for i, s := range strategies(r) {
		c.Series = append(c.Series, workerSeries(r, KindFlow, s, i,
			func(c Cell) float64 { return c.Throughput.Mean }))
		if fl := workerSeries(r, KindFloor, s, i,
			func(c Cell) float64 { return c.Throughput.Mean }); len(fl.Points) > 0 {
			fl.Name, fl.Dashed = s+" floor", true
			c.Series = append(c.Series, fl)
		}
	}
	if q := workerSeries(r, KindQueue, "queue", len(c.Series)/2,
		func(c Cell) float64 { return c.Throughput.Mean }); len(q.Points) > 0 {
		c.Series = append(c.Series, q)
	}
	return c
}

func ratioChart(r *Report) lineChart {
	c := lineChart{Title: "Flow throughput as a share of the raw floor",
		XLabel: "workers", YLabel: "flow / floor", XTicks: workerTicks(r)}
	for i, s := range strategies(r) {
		sr := workerSeries(r, KindFlow, s, i, func(c Cell) float64 { return c.FloorRatio })
		if len(sr.Points) > 0 && slices.ContainsFunc(sr.Points,
			func(p point) bool { return p.Y > 0 }) {
			c.Series = append(c.Series, sr)
		}
	}
	return c
}

// workerSeries is one quantity of one strategy's cells against workers.
func workerSeries(r *Report, kind, strategy string, color int,
	y func(Cell) float64) series {
	s := series{Name: strategy, Color: color}
	for _, c := range r.Cells {
		if c.Kind == kind && c.Strategy == strategy {
			s.Points = append(s.Points, point{X: math.Log2(float64(c.Workers)), Y: y(c)})
		}
	}
	slices.SortFunc(s.Points, func(a, b point) int { return cmp.Compare(a.X, b.X) })
	return s
}

// percentileTicks place percentiles so that each nine gets the same room.
var percentileTicks = []tick{{0, "0%"}, {pctX(50), "50%"}, {pctX(90), "90%"},
	{pctX(99), "99%"}, {pctX(99.9), "99.9%"}, {pctX(99.99), "99.99%"},
	{pctX(100), "max"}}

// pctX is a percentile's place on the x axis: the number of nines, with
// the maximum half a nine past 99.99 %.
func pctX(p float64) float64 {
	if p >= 100 {
		return 4.5
	}
	return -math.Log10(1 - p/100)
}

// latencyChart draws the distribution of one series at the focus worker
// count, a line per strategy.
func latencyChart(r *Report, name string) lineChart {
	n := r.focusWorkers()
	c := lineChart{Title: fmt.Sprintf("Latency distribution, %s, at %d workers",
		name, n), XLabel: "percentile", YLabel: "ms (log)",
		XTicks: percentileTicks, LogY: true}
	for i, s := range strategies(r) {
		cell, ok := r.Find(KindFlow, s, n)
		l, has := cell.Latency[name]
		if !ok || !has {
			continue
		}
		sr := series{Name: s, Color: i}
		for _, p := range l.Curve {
			sr.Points = append(sr.Points, point{X: pctX(p.Percentile), Y: p.Ms})
		}
		c.Series = append(c.Series, sr)
	}
	return c
}

func htmlRows(r *Report) [][]string {
	var out [][]string
	for _, rw := range r.rows() {
		c := rw.Main
		dup, lost, errs := counts(c.Correctness)
		out = append(out, []string{rw.Strategy, fmt.Sprint(rw.Workers),
			throughput(c.Throughput), floorThroughput(rw), ratio(rw),
			latencyAt(c, "total", p50), latencyAt(c, "total", p95),
			latencyAt(c, "total", p99), fmt.Sprintf("%.0f", c.CPUPerMessage),
			megabytes(c.PeakRSS), dup, lost, errs})
	}
	return out
}

func htmlPhases(r *Report) [][]string {
	var out [][]string
	for _, rw := range r.rows() {
		if rw.Main.Kind != KindFlow {
			continue
		}
		cells := []string{rw.Strategy, fmt.Sprint(rw.Workers)}
		for _, s := range Series[1:] {
			cell := percentiles(rw.Main, s)
			if rw.Floor != nil {
				cell += "; " + percentiles(*rw.Floor, s)
			}
			cells = append(cells, cell)
		}
		out = append(out, cells)
	}
	return out
}

var pageTemplate = template.Must(template.New("bench").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { padding: .2em .7em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
svg { background: #fff; border: 1px solid #e4e4e4; }
svg .title { font-weight: 600; font-size: 13px; }
svg .grid { stroke: #eee; } svg .frame { fill: none; stroke: #999; }
svg text { font-size: 11px; fill: #333; }
svg .ytick { text-anchor: end; } svg .xtick, svg .xlabel { text-anchor: middle; }
svg .ylabel { text-anchor: middle; }
.met { color: #06702c; } .missed { color: #b00020; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Workload}}.<br>{{.Environment}}.</p>
{{if .Goals}}<h2>Goals</h2>
<p>Reported, not enforced.</p>
<table><tr><th>goal</th><th>target</th><th>measured</th><th>result</th><th>note</th></tr>
{{range .Goals}}<tr><td>{{.Name}}</td><td>{{.Target}}</td><td>{{.Measured}}</td>
<td class="{{if .Unjudged}}unjudged{{else if .Met}}met{{else}}missed{{end}}">{{.Result}}</td>
<td>{{.Note}}</td></tr>
{{end}}</table>{{end}}
<h2>Plots</h2>
<div class="charts">{{range .Charts}}{{.}}
{{end}}</div>
<h2>Throughput, latency and correctness</h2>
<p>Messages per second, mean ± 95 % interval over the repeats; ratio is the
flow's median repeat over the raw floor's. Latency of the whole job in ms. dup,
lost and err are summed over the repeats.</p>
<table><tr><th>strategy</th><th>workers</th><th>msg/s</th><th>floor msg/s</th>
<th>ratio</th><th>p50</th><th>p95</th><th>p99</th><th>cpu µs/msg</th>
<th>peak RSS</th><th>dup</th><th>lost</th><th>err</th></tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<h2>Latency per phase</h2>
<p>p50 / p99 in ms, flow then floor.</p>
<table><tr><th>strategy</th><th>workers</th><th>claim</th><th>insert</th>
<th>commit</th><th>dispatch</th></tr>
{{range .Phases}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .Hook}}<h2>Checkpoint hook</h2>
<p>{{.Hook}}.</p>{{end}}
</body>
</html>
`))
