package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/dedupsim/dedupsim/reports"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/backend/embedded"
)

type matrixOptions struct {
	only   string
	config string
	gate   bool
}

func matrixFlags(o *matrixOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.StringVar(&o.only, "scenarios", "",
		"run only these shipped scenarios, by short name, comma-separated (c01,c05b)")
	fs.StringVar(&o.config, "configs", "",
		"run only configurations whose name contains one of these, comma-separated")
	fs.BoolVar(&o.gate, "gate", true,
		"exit 1 when a cell differs from its committed expected verdict")
	fs.Usage = usage(fs, "dedupsim matrix [flags]", `
Runs every configuration — each strategy, without a job mutex and under a
plain-DEL or an owner-checked mutex, dispatching after COMMIT or through an
outbox — against every shipped case scenario, and prints the table: rows are
configurations, columns scenarios, each cell what broke. Every cell is held
to its expected verdict, written by hand from the cases' right outcomes and
committed beside the scenarios (scenarios/matrix.expected).`)
	return fs
}

func matrixCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o matrixOptions
	fs := matrixFlags(&o)
	if err := parse(fs, args, stderr); err != nil {
		return helpOrBad(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dedupsim matrix: unexpected argument %q (pick scenarios "+
			"with -scenarios)\n", fs.Arg(0))
		return ExitBadInput
	}
	exp, err := scenarios.MatrixExpected()
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim matrix: %v\n", err)
		return ExitFailed
	}
	scs, err := matrixScenarios(exp, o.only)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim matrix: %v\n", err)
		return ExitBadInput
	}
	cfgs := matrixConfigs(o.config)
	if len(cfgs) == 0 {
		fmt.Fprintf(stderr, "dedupsim matrix: no configuration matches %q\n", o.config)
		return ExitBadInput
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := embedded.New(ctx, embedded.Config{Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim matrix: start backend: %v\n", err)
		if errors.Is(err, backend.ErrUnavailable) {
			return ExitBadInput
		}
		return ExitFailed
	}
	defer b.Close()
	done := 0
	cells, err := sim.RunMatrix(ctx, b, scs, cfgs, sim.Options{Logger: log},
		func(c sim.Cell) {
			done++
			fmt.Fprintf(stderr, "matrix: %d/%d %s × %s: %s\n", done,
				len(scs)*len(cfgs), c.Config.Name(), c.Scenario, c.Code)
		})
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim matrix: %v\n", err)
		if ctx.Err() != nil {
			return ExitInterrupted
		}
		return ExitFailed
	}
	wrong, err := reports.Matrix(stdout, cells, exp)
	if err != nil {
		return ExitFailed
	}
	if wrong > 0 && o.gate {
		fmt.Fprintf(stdout, "\n%d cells differ from their expected verdicts\n", wrong)
		return ExitNotHeld
	}
	return ExitOK
}

// matrixScenarios loads the shipped scenarios the expected grid has
// columns for, or those of only.
func matrixScenarios(exp *scenarios.Expected, only string) ([]*scenarios.Scenario, error) {
	want := exp.Scenarios
	if only != "" {
		want = strings.Split(only, ",")
	}
	var out []*scenarios.Scenario
	for _, short := range want {
		var names []string
		for _, n := range scenarios.Shipped() {
			if scenarios.ShortName(n) == short || n == short {
				names = append(names, n)
			}
		}
		if len(names) != 1 {
			return nil, fmt.Errorf("%d shipped scenarios are called %q: %v", len(names),
				short, names)
		}
		name := names[0]
		sc, err := scenarios.LoadShipped(name)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

func matrixConfigs(filter string) []scenarios.Config {
	all := scenarios.AllConfigs()
	if filter == "" {
		return all
	}
	parts := strings.Split(filter, ",")
	return slices.DeleteFunc(all, func(c scenarios.Config) bool {
		for _, p := range parts {
			if strings.Contains(c.Name(), p) {
				return false
			}
		}
		return true
	})
}
