package reports_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/reports"
)

func TestProgressWritesALinePerFinishedStrategyWhenNotOnATerminal(t *testing.T) {
	var out bytes.Buffer
	p := reports.NewProgress(&out, 5, false)
	for run := 1; run <= 3; run++ {
		p.Step("c01", "legacy", run, 3)
	}
	p.Step("c01", "setnx", 1, 2)
	fmt.Fprintln(p.Writer(), "a log line")
	p.Step("c01", "setnx", 2, 2)
	require.NoError(t, p.Finish())

	require.Equal(t, "progress: c01 / legacy: 3 runs done (3 of 5 in all)\n"+
		"a log line\n"+
		"progress: c01 / setnx: 2 runs done (5 of 5 in all)\n", out.String())
}

func TestProgressDrawsABarOnATerminalAndKeepsLogLinesWhole(t *testing.T) {
	var out bytes.Buffer
	p := reports.NewProgress(&out, 4, true)
	p.Step("c01", "legacy", 1, 2)
	fmt.Fprintln(p.Writer(), "time=… msg=\"scenario done\"")
	p.Step("c01", "legacy", 2, 2)
	require.NoError(t, p.Finish())

	s := out.String()
	require.Contains(t, s, "c01 / legacy")
	require.Contains(t, s, "(2/4")
	require.Contains(t, s, "\rtime=… msg=\"scenario done\"\n")
	require.NotContains(t, s, "progress: ", "no plain lines on a terminal")

	// After Finish, lines go straight through.
	out.Reset()
	fmt.Fprintln(p.Writer(), "after")
	require.Equal(t, "after\n", out.String())
	require.False(t, strings.Contains(out.String(), "\r"))
}
