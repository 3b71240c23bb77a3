package bench

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// lineChart is a line plot drawn as a self-contained SVG element.
type lineChart struct {
	Title, XLabel, YLabel string
	// XTicks are where the x axis is labelled, in data units; they also
	// set the x range.
	XTicks []tick
	// LogY draws the y axis in powers of ten.
	LogY   bool
	Series []series
}

type tick struct {
	X     float64
	Label string
}

type series struct {
	Name string
	// Color indexes the palette; Dashed draws a dashed line.
	Color  int
	Dashed bool
	Points []point
}

type point struct{ X, Y float64 }

// palette holds colors that stay apart for common color blindness.
var palette = []string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
	"#d55e00", "#000000", "#f0e442"}

// Chart geometry, in SVG user units.
const (
	chartW, chartH   = 680, 340
	padL, padR       = 64, 170
	padTop, padBot   = 34, 48
	plotW, plotH     = chartW - padL - padR, chartH - padTop - padBot
	legendRowSpacing = 16
)

// svg renders the chart.
func (c lineChart) svg() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" `+
		`width="%d" height="%d" role="img" aria-label="%s">`, chartW, chartH, chartW,
		chartH, esc(c.Title))
	fmt.Fprintf(&b, `<text x="%d" y="20" class="title">%s</text>`, padL, esc(c.Title))
	ys := c.yScale()
	xs := c.xScale()
	c.axes(&b, xs, ys)
	for _, s := range c.Series {
		c.line(&b, s, xs, ys)
	}
	c.legend(&b)
	b.WriteString(`</svg>`)
	return b.String()
}

// scale maps data values to SVG coordinates.
type scale struct {
	lo, hi   float64
	from, to float64
	log      bool
	ticks    []tick
}

func (s scale) at(v float64) float64 {
	if s.log {
		v = math.Log10(math.Max(v, 1e-9))
	}
	if s.hi == s.lo {
		return s.from
	}
	at := s.from + (v-s.lo)/(s.hi-s.lo)*(s.to-s.from)
	return math.Min(math.Max(at, math.Min(s.from, s.to)), math.Max(s.from, s.to))
}

func (c lineChart) xScale() scale {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range c.XTicks {
		lo, hi = math.Min(lo, t.X), math.Max(hi, t.X)
	}
	if len(c.XTicks) == 0 {
		lo, hi = 0, 1
	}
	return scale{lo: lo, hi: hi, from: padL, to: padL + plotW, ticks: c.XTicks}
}

// yScale runs from 0 (or the lowest power of ten) to a round number above
// every point.
func (c lineChart) yScale() scale {
	lo, hi := math.Inf(1), 0.0
	for _, s := range c.Series {
		for _, p := range s.Points {
			lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
		}
	}
	if hi <= 0 {
		hi = 1
	}
	if c.LogY {
		return logScale(lo, hi)
	}
	step := niceStep(hi / 5)
	top := math.Ceil(hi/step) * step
	s := scale{lo: 0, hi: top, from: padTop + plotH, to: padTop}
	for v := 0.0; v <= top+step/2; v += step {
		s.ticks = append(s.ticks, tick{X: v, Label: number(v)})
	}
	return s
}

func logScale(lo, hi float64) scale {
	a := math.Floor(math.Log10(math.Max(lo, 1e-3)))
	z := math.Ceil(math.Log10(hi))
	if z <= a {
		z = a + 1
	}
	s := scale{lo: a, hi: z, from: padTop + plotH, to: padTop, log: true}
	for e := a; e <= z; e++ {
		s.ticks = append(s.ticks, tick{X: math.Pow(10, e), Label: number(math.Pow(10, e))})
	}
	return s
}

// niceStep rounds x up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func number(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case v >= 0.1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%g", v)
}

// axes draws the grid, the ticks and the axis labels.
func (c lineChart) axes(b *strings.Builder, xs, ys scale) {
	for _, t := range ys.ticks {
		y := ys.at(t.X)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/>`,
			padL, y, padL+plotW, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" class="ytick">%s</text>`, padL-6, y+4,
			esc(t.Label))
	}
	for _, t := range xs.ticks {
		x := xs.at(t.X)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="grid"/>`,
			x, padTop, x, padTop+plotH)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" class="xtick">%s</text>`, x,
			padTop+plotH+16, esc(t.Label))
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" class="frame"/>`,
		padL, padTop, plotW, plotH)
	fmt.Fprintf(b, `<text x="%d" y="%d" class="xlabel">%s</text>`, padL+plotW/2,
		chartH-8, esc(c.XLabel))
	fmt.Fprintf(b, `<text transform="translate(14 %d) rotate(-90)" class="ylabel">%s</text>`,
		padTop+plotH/2, esc(c.YLabel))
}

// line draws one series with a dot per point.
func (c lineChart) line(b *strings.Builder, s series, xs, ys scale) {
	color := palette[s.Color%len(palette)]
	dash := ""
	if s.Dashed {
		dash = ` stroke-dasharray="5 4"`
	}
	var pts []string
	for _, p := range s.Points {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", xs.at(p.X), ys.at(p.Y)))
	}
	fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s>`+
		`<title>%s</title></polyline>`, strings.Join(pts, " "), color, dash, esc(s.Name))
	for _, p := range s.Points {
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s">`+
			`<title>%s: %s</title></circle>`, xs.at(p.X), ys.at(p.Y), color,
			esc(s.Name), number(math.Round(p.Y*100)/100))
	}
}

// legend lists the series right of the plot.
func (c lineChart) legend(b *strings.Builder) {
	x := padL + plotW + 14
	for i, s := range c.Series {
		y := padTop + 8 + i*legendRowSpacing
		color := palette[s.Color%len(palette)]
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="5 4"`
		}
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" `+
			`stroke-width="2"%s/>`, x, y, x+22, y, color, dash)
		fmt.Fprintf(b, `<text x="%d" y="%d" class="legend">%s</text>`, x+28, y+4,
			esc(s.Name))
	}
}

func esc(s string) string { return html.EscapeString(s) }
