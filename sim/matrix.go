package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/check"
)

// Cell is one configuration run against one scenario.
type Cell struct {
	Scenario string           `json:"scenario"`
	Config   scenarios.Config `json:"config"`
	// Applies is false when the scenario cannot run the configuration.
	Applies bool   `json:"applies"`
	Why     string `json:"why,omitempty"`
	// Code is the cell as the matrix prints it: "ok", "unknown", or one
	// letter per broken property with its count, such as "D2H2X".
	Code   string  `json:"code"`
	Trials []Trial `json:"-"`
}

// Codes are the letters the matrix writes for broken properties, in the
// design's order.
var Codes = []struct {
	Letter   string
	Property check.Property
}{
	{"D", check.NoDuplicate}, {"L", check.NoLoss}, {"H", check.OneWebhook},
	{"G", check.NoGhostWebhook}, {"X", check.ExclusiveClaim},
	{"C", check.OneConversation},
}

// RunMatrix runs every configuration against every scenario, each cell on
// fresh databases, and reports the cells in order: by configuration, then
// scenario. progress, if set, is told of each cell as it ends.
func RunMatrix(ctx context.Context, b backend.Backend, scs []*scenarios.Scenario,
	cfgs []scenarios.Config, opts Options, progress func(Cell)) ([]Cell, error) {
	var cells []Cell
	for _, cfg := range cfgs {
		for _, sc := range scs {
			c, err := runCell(ctx, b, sc, cfg, opts)
			if err != nil {
				return cells, err
			}
			if progress != nil {
				progress(c)
			}
			cells = append(cells, c)
		}
	}
	return cells, nil
}

func runCell(ctx context.Context, b backend.Backend, sc *scenarios.Scenario,
	cfg scenarios.Config, opts Options) (Cell, error) {
	c := Cell{Scenario: sc.Name, Config: cfg}
	v, err := sc.Variant(cfg)
	if errors.Is(err, scenarios.ErrNotApplicable) {
		c.Code, c.Why = "-", err.Error()
		return c, nil
	}
	if err != nil {
		return c, err
	}
	c.Applies = true
	// Forced schedules give the same verdict every run; free ones get two
	// runs, to show what varies.
	opts.Runs = 1
	if v.Schedule.Kind == "free" && v.Runs > 1 {
		opts.Runs = 2
	}
	res, err := RunScenario(ctx, b, v, opts)
	if err != nil {
		return c, fmt.Errorf("matrix cell %s × %s: %w", cfg.Name(), sc.Name, err)
	}
	c.Trials = res.Strategies[0].Trials
	c.Code = code(c.Trials)
	return c, nil
}

// code summarizes the runs of a cell: a letter per property broken in any
// run, with the worst count where one tells more.
func code(trials []Trial) string {
	var b strings.Builder
	for _, t := range trials {
		if t.Judgement.Verdict == check.Unknown {
			return "unknown"
		}
	}
	for _, c := range Codes {
		n, broke := worst(trials, c.Property)
		if !broke {
			continue
		}
		b.WriteString(c.Letter)
		if n > 0 {
			fmt.Fprint(&b, n)
		}
	}
	if b.Len() == 0 {
		return "ok"
	}
	return b.String()
}

// worst reports whether p broke in any run and the largest count behind
// it: stored rows for D, distinct webhook ids for H, open conversations
// for C; 0 for the others.
func worst(trials []Trial, p check.Property) (int, bool) {
	n, broke := 0, false
	for _, t := range trials {
		for _, f := range t.Judgement.Findings {
			if f.Property != p {
				continue
			}
			broke = true
			n = max(n, countIn(t, p))
		}
	}
	return n, broke
}

func countIn(t Trial, p check.Property) int {
	n := 0
	for _, tl := range t.Judgement.Tallies {
		switch p {
		case check.NoDuplicate:
			n = max(n, tl.Messages)
		case check.OneWebhook:
			for _, ids := range tl.WebhookIDs {
				n = max(n, ids)
			}
		}
	}
	return n
}
