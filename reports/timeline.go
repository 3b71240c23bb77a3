package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/history"
)

// The timeline's geometry, in SVG user units.
const (
	tlWidth  = 960
	tlLeft   = 56 // room for the lane names
	tlRight  = 16
	tlTop    = 8
	tlLaneH  = 30
	tlAxisH  = 22
	tlBarH   = 12
	tlAxisAt = 5 // labelled ticks on the time axis
)

// timeline is one run drawn to scale in time: per worker, when its
// transactions were open, when it was held, each step, and where a
// property broke. It is the overview above the swimlane table.
type timeline struct {
	Width, Height int
	Lanes         []tlLane
	Bars          []tlBar
	Ticks         []tlTick
	Breaks        []tlTick
	Axis          []tlTick
}

type tlLane struct {
	Name string
	Y    int
}

// tlBar is a span of one lane: class "tx" or "wait". Holds are drawn
// thinner, over the transaction they may fall in.
type tlBar struct {
	Class, Title string
	X, Y, W      float64
	H            int
}

// tlTick is a moment: a step on a lane, a break, or an axis label.
type tlTick struct {
	Title string
	X, Y  float64
}

// timelineOf lays out t's events over its duration.
func timelineOf(t sim.Trial, lanes []string) timeline {
	tl := timeline{Width: tlWidth, Height: tlTop + len(lanes)*tlLaneH + tlAxisH}
	y := map[string]float64{}
	for i, l := range lanes {
		tl.Lanes = append(tl.Lanes, tlLane{Name: l, Y: tlTop + i*tlLaneH + tlLaneH/2})
		y[l] = float64(tlTop + i*tlLaneH + tlLaneH/2)
	}
	end := time.Duration(0)
	for _, e := range t.Events {
		end = max(end, e.At)
	}
	x := func(d time.Duration) float64 {
		if end == 0 {
			return tlLeft
		}
		return tlLeft + float64(d)/float64(end)*float64(tlWidth-tlLeft-tlRight)
	}
	tl.spans(t.Events, x, y)
	marks := evidenceOf(t)
	for _, e := range t.Events {
		if e.Phase == history.Enter {
			tl.Ticks = append(tl.Ticks, tlTick{X: x(e.At), Y: y[e.Worker],
				Title: fmt.Sprintf("%s %s at %s ms", e.Worker, e.Checkpoint, millis(e.At))})
		}
		for _, m := range marks[e.Seq] {
			if m.Broke {
				tl.Breaks = append(tl.Breaks, tlTick{X: x(e.At), Y: y[e.Worker],
					Title: m.Property + " broke: " + m.Text})
			}
		}
	}
	for i := 0; i <= tlAxisAt; i++ {
		d := end * time.Duration(i) / tlAxisAt
		tl.Axis = append(tl.Axis, tlTick{X: x(d), Y: float64(tl.Height - 6),
			Title: millis(d) + " ms"})
	}
	return tl
}

// spans adds a bar for each open transaction and each hold or pause.
func (tl *timeline) spans(events []history.Event, x func(time.Duration) float64,
	y map[string]float64) {
	txFrom, waitFrom := map[string]time.Duration{}, map[string]time.Duration{}
	var holds []tlBar
	defer func() { tl.Bars = append(tl.Bars, holds...) }()
	bar := func(class, worker, title string, from, to time.Duration) {
		b := tlBar{Class: class, Title: title, X: x(from), W: max(x(to)-x(from), 2),
			Y: y[worker] - tlBarH/2, H: tlBarH}
		if class == "wait" {
			b.Y, b.H = y[worker]-tlBarH/4, tlBarH/2
			holds = append(holds, b)
			return
		}
		tl.Bars = append(tl.Bars, b)
	}
	for _, e := range events {
		switch {
		case e.Phase == history.Enter && e.Checkpoint == checkpoint.TxBegin:
			txFrom[e.Worker] = e.At
		case e.Phase == history.Done && e.Checkpoint == checkpoint.TxCommit,
			e.Phase == history.Note && e.Checkpoint == "":
			if from, ok := txFrom[e.Worker]; ok {
				bar("tx", e.Worker, e.Worker+" transaction open", from, e.At)
				delete(txFrom, e.Worker)
			}
		case e.Phase == history.Note && isHold(e.Result):
			waitFrom[e.Worker] = e.At
		case e.Phase == history.Note && isRelease(e.Result):
			if from, ok := waitFrom[e.Worker]; ok {
				bar("wait", e.Worker, fmt.Sprintf("%s %s at %s", e.Worker, "held",
					e.Checkpoint), from, e.At)
				delete(waitFrom, e.Worker)
			}
		}
	}
}

func isHold(note string) bool {
	return strings.HasPrefix(note, "held") || strings.HasPrefix(note, "paused")
}

func isRelease(note string) bool {
	return strings.HasPrefix(note, "released") || note == "resumed"
}
