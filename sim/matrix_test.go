package sim_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/internal/testenv"
	"github.com/dedupsim/dedupsim/reports"
	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
)

// matrixEnv turns on the full matrix, which takes minutes; make test sets
// it in a run of its own.
const matrixEnv = "DEDUPSIM_MATRIX"

func TestEveryMatrixCellHasItsHandWrittenVerdict(t *testing.T) {
	if os.Getenv(matrixEnv) == "" {
		t.Skipf("the full matrix runs with %s=1 (make test sets it)", matrixEnv)
	}
	exp, err := scenarios.MatrixExpected()
	require.NoError(t, err)
	var scs []*scenarios.Scenario
	for _, name := range scenarios.Shipped() {
		if _, ok := exp.Cells[exp.Configs[0]][scenarios.ShortName(name)]; ok {
			sc, err := scenarios.LoadShipped(name)
			require.NoError(t, err)
			scs = append(scs, sc)
		}
	}
	require.Len(t, scs, len(exp.Scenarios), "a column names no shipped scenario")

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	cells, err := sim.RunMatrix(ctx, testenv.Backend(t), scs, scenarios.AllConfigs(),
		sim.Options{}, nil)
	require.NoError(t, err)
	require.Len(t, cells, len(exp.Configs)*len(exp.Scenarios))

	var table strings.Builder
	wrong, err := reports.Matrix(&table, cells, exp)
	require.NoError(t, err)
	t.Log("\n" + table.String())
	require.Zero(t, wrong, "cells differ from scenarios/matrix.expected:\n%s", table.String())
}

func TestTheExpectedMatrixCoversEveryConfiguration(t *testing.T) {
	exp, err := scenarios.MatrixExpected()
	require.NoError(t, err)
	var names []string
	for _, c := range scenarios.AllConfigs() {
		names = append(names, c.Name())
	}
	require.Equal(t, names, exp.Configs)
	for _, cfg := range exp.Configs {
		for _, sc := range exp.Scenarios {
			cell := exp.Cells[cfg][sc]
			require.Regexp(t, `^(ok|-|obs|[DLHGXCdlhgxc]+)$`, cell, "%s × %s", cfg, sc)
		}
	}
}
