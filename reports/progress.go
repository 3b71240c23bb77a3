package reports

import (
	"fmt"
	"io"
	"sync"

	"github.com/schollz/progressbar/v3"
)

// Progress shows how far a long run has come. On a terminal it draws a
// bar that counts runs; elsewhere, as in a CI log, it writes one line per
// strategy when the strategy's last run is done. It is safe for
// concurrent use.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	done  int
	bar   *progressbar.ProgressBar // nil unless interactive
}

// NewProgress starts a progress report to w over total runs. interactive
// draws a bar, for a terminal; otherwise plain lines are written.
func NewProgress(w io.Writer, total int, interactive bool) *Progress {
	p := &Progress{w: w, total: total}
	if interactive && total > 0 {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetItsString("runs"),
		)
	}
	return p
}

// Step records that run of runs of strategy in scenario is done. Its
// signature is that of sim.Options.Progress.
func (p *Progress) Step(scenario, strategy string, run, runs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if p.bar != nil {
		p.bar.Describe(scenario + " / " + strategy)
		_ = p.bar.Add(1)
		return
	}
	if run == runs {
		fmt.Fprintf(p.w, "progress: %s / %s: %d %s done (%d of %d in all)\n",
			scenario, strategy, runs, plural(runs, "run", "runs"), p.done, p.total)
	}
}

// Finish takes the bar off the terminal. Plain lines stay as written.
func (p *Progress) Finish() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		return nil
	}
	bar := p.bar
	p.bar = nil // later lines go straight to the writer
	if err := bar.Finish(); err != nil {
		return fmt.Errorf("finish progress bar: %w", err)
	}
	return nil
}

// Writer returns a writer for other lines meant for the same terminal,
// such as logs: each write first clears the bar, which the next step
// draws again below the line.
func (p *Progress) Writer() io.Writer { return progressWriter{p} }

type progressWriter struct{ p *Progress }

// Write clears the bar, writes b, and draws the bar again.
func (pw progressWriter) Write(b []byte) (int, error) {
	pw.p.mu.Lock()
	defer pw.p.mu.Unlock()
	if pw.p.bar == nil {
		return pw.p.w.Write(b)
	}
	_ = pw.p.bar.Clear()
	n, err := pw.p.w.Write(b)
	_ = pw.p.bar.RenderBlank()
	return n, err
}
