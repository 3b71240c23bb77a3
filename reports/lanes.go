package reports

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/check"
	"github.com/dedupsim/dedupsim/sim/history"
)

// laneWidth is the width of one worker's column in the text swimlane.
const laneWidth = 34

// maxLanes is the most workers drawn side by side; more are listed.
const maxLanes = 4

// order writes the checkpoints a failing run's workers passed, in the
// order they passed them, with what each step read or wrote: side by side
// for a few workers, one line per step for more.
func (p *printer) order(strategy string, t sim.Trial) {
	p.line("  %s, run %d (%s): %s", strategy, t.Run, t.Judgement.Verdict,
		strings.Join(brokenNames(t), ", "))
	steps := stepsOf(t.Events)
	workers := workersOf(steps)
	if len(workers) > maxLanes {
		for _, s := range steps {
			p.line("    %-4s %s", s.worker, s.text)
		}
		return
	}
	var head strings.Builder
	for _, w := range workers {
		fmt.Fprintf(&head, "%-*s", laneWidth, w)
	}
	p.line("    %s", strings.TrimRight(head.String(), " "))
	for _, s := range steps {
		col := indexOf(workers, s.worker)
		p.line("    %s%s", strings.Repeat(" ", col*laneWidth), s.text)
	}
}

// step is one line of a swimlane.
type step struct {
	worker string
	text   string
}

// stepsOf merges each checkpoint's enter with its outcome and keeps the
// simulator's notes on holds and pauses.
func stepsOf(events []history.Event) []step {
	var out []step
	open := map[string]int{} // worker -> index of its last entered step
	for _, e := range events {
		switch e.Phase {
		case history.Enter:
			open[e.Worker] = len(out)
			out = append(out, step{e.Worker, string(e.Checkpoint)})
		case history.Done:
			if i, ok := open[e.Worker]; ok {
				out[i].text = clip(out[i].text + " → " + outcome(e))
				delete(open, e.Worker)
			} else {
				out = append(out, step{e.Worker, clip("  → " + outcome(e))})
			}
		case history.Note:
			if e.Worker != "ingest" {
				// The step's outcome, when it comes, gets a line of its own.
				delete(open, e.Worker)
				out = append(out, step{e.Worker, clip("(" + note(e) + ")")})
			}
		}
	}
	return out
}

func outcome(e history.Event) string {
	if e.Err != "" {
		return "error"
	}
	if e.Result == "" {
		return "ok"
	}
	return e.Result
}

func note(e history.Event) string {
	if e.Err != "" {
		return e.Result + ": " + e.Err
	}
	return e.Result
}

func clip(s string) string {
	r := []rune(s)
	if len(r) > laneWidth-2 {
		return string(r[:laneWidth-3]) + "…"
	}
	return s
}

func workersOf(steps []step) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range steps {
		if !seen[s.worker] {
			seen[s.worker] = true
			out = append(out, s.worker)
		}
	}
	sort.Strings(out)
	return out
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return 0
}

func brokenNames(t sim.Trial) []string {
	if t.Judgement.Verdict == check.Unknown {
		// The run did not end: what it left undone is no verdict.
		if len(t.Stuck) > 0 {
			return []string{"it did not finish; stuck: " + strings.Join(t.Stuck, "; ")}
		}
		return []string{"it did not finish"}
	}
	var out []string
	for _, p := range t.Judgement.Broken {
		out = append(out, "broke "+string(p))
	}
	if len(out) == 0 {
		out = append(out, "no property broke")
	}
	return out
}
