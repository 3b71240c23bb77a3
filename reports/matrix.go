package reports

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
)

// Matrix writes the matrix: one row per configuration, one column per
// scenario, each cell what the runs broke. A cell that differs from its
// expected verdict is marked with "!" and the expected code; exp may be
// nil. It returns the number of such cells.
func Matrix(w io.Writer, cells []sim.Cell, exp *scenarios.Expected) (int, error) {
	var cols, rows []string
	seenCol, seenRow := map[string]bool{}, map[string]bool{}
	grid := map[string]map[string]string{}
	wrong := 0
	for _, c := range cells {
		col, row := scenarios.ShortName(c.Scenario), c.Config.Name()
		if !seenCol[col] {
			seenCol[col] = true
			cols = append(cols, col)
		}
		if !seenRow[row] {
			seenRow[row] = true
			rows = append(rows, row)
			grid[row] = map[string]string{}
		}
		text := c.Code
		if want, ok := expectedCell(exp, row, col); ok && !scenarios.Matches(want, c.Code) {
			text += "!" + want
			wrong++
		}
		grid[row][col] = text
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "configuration")
	for _, col := range cols {
		fmt.Fprint(tw, "\t"+col)
	}
	fmt.Fprintln(tw)
	for _, row := range rows {
		fmt.Fprint(tw, row)
		for _, col := range cols {
			fmt.Fprint(tw, "\t"+grid[row][col])
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return wrong, err
	}
	_, err := fmt.Fprintln(w, matrixLegend)
	return wrong, err
}

const matrixLegend = `
ok: every property held.  -: the scenario does not apply to the configuration.
Letters name the broken properties, with the worst count seen:
  D no-duplicate (stored rows)   L no-loss           H one-webhook (distinct ids)
  G no-ghost-webhook             X exclusive-claim   C one-conversation
A cell marked !XYZ differs from its expected verdict XYZ (upper case: must
break; lower case: may break; obs: shown, not gated).`

// expectedCell looks up the expected code of one cell.
func expectedCell(exp *scenarios.Expected, row, col string) (string, bool) {
	if exp == nil {
		return "", false
	}
	cell, ok := exp.Cells[row][col]
	return cell, ok
}
