package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/bench"
)

// tinyBench is a bench command line small enough for a test.
var tinyBench = []string{"bench", "--strategy", "setnx", "--workers", "1,2",
	"--deliveries", "12", "--repeats", "2", "--dup-gap", "5ms", "--hook=false",
	"--queue=false"}

// benchReport runs the tiny bench and returns its JSON report's path.
func benchReport(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "bench.json")
	code, out, errOut := call(t, append(tinyBench, "--json", path)...)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "floor msg/s")
	return path
}

func TestBenchPrintsItsTableAndWritesEveryReport(t *testing.T) {
	dir := t.TempDir()
	paths := map[string]string{}
	args := append([]string(nil), tinyBench...)
	for _, f := range []string{"json", "markdown", "html"} {
		paths[f] = filepath.Join(dir, "bench."+f)
		args = append(args, "--"+f, paths[f])
	}
	code, out, errOut := call(t, args...)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "dedupsim bench on the embedded backend")
	require.Regexp(t, `(?m)^  setnx +2 +\d+`, out)
	require.Contains(t, errOut, "bench: 8/8 floor setnx workers=2 repeat 2")

	f, err := os.Open(paths["json"])
	require.NoError(t, err)
	defer f.Close()
	rep, err := bench.ReadJSON(f)
	require.NoError(t, err)
	require.Len(t, rep.Cells, 4)
	md, err := os.ReadFile(paths["markdown"])
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(md), "# dedupsim bench"))
	page, err := os.ReadFile(paths["html"])
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(page), "<!DOCTYPE html>"))
	require.Contains(t, string(page), "<svg")
}

// doctor writes a copy of the report at path with every flow cell's
// throughput multiplied by f and its repeats made to agree exactly: a
// quiet baseline, so that the noise is the current run's alone.
func doctor(t *testing.T, path string, f float64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	rep, err := bench.ReadJSON(bytes.NewReader(b))
	require.NoError(t, err)
	for i, c := range rep.Cells {
		if c.Kind != bench.KindFlow {
			continue
		}
		s := &rep.Cells[i].Throughput
		s.Mean, s.StdDev, s.CI95 = s.Mean*f, 0, 0
	}
	var out bytes.Buffer
	require.NoError(t, bench.JSON(&out, rep))
	doctored := filepath.Join(t.TempDir(), "baseline.json")
	require.NoError(t, os.WriteFile(doctored, out.Bytes(), 0o644))
	return doctored
}

// repeated is the tiny bench with enough repeats for their spread to
// bound the noise: with two, Student's t for one degree of freedom makes
// any drop look like noise.
var repeated = append(append([]string(nil), tinyBench...), "--repeats", "5")

func TestBenchExits1AndNamesTheCellWhenThroughputDropsBelowTheBaseline(t *testing.T) {
	baseline := doctor(t, benchReport(t, t.TempDir()), 10)
	code, out, errOut := call(t, append(repeated, "--baseline", baseline)...)
	require.Equal(t, ExitNotHeld, code, errOut)
	require.Contains(t, out, "regression: flow setnx workers=1: ")
	require.Contains(t, out, "regression: flow setnx workers=2: ")
}

func TestBenchExits0WhenTheBaselineWasSlower(t *testing.T) {
	baseline := doctor(t, benchReport(t, t.TempDir()), 0.1)
	code, out, errOut := call(t, append(repeated, "--baseline", baseline)...)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "no regression beyond the noise")
	require.Contains(t, out, "faster")
}

func TestBadBenchFlagsAreBadInputAndNothingRuns(t *testing.T) {
	for name, args := range map[string][]string{
		"no workers":        {"--workers", "0"},
		"too many copies":   {"--dup-rate", "0.9"},
		"a negative rate":   {"--dup-rate", "-1"},
		"an unknown one":    {"--strategy", "nope"},
		"a missing file":    {"--baseline", filepath.Join(t.TempDir(), "none.json")},
		"a missing folder":  {"--json", filepath.Join(t.TempDir(), "no", "b.json")},
		"a stray argument":  {"setnx"},
		"a negative repeat": {"--repeats", "-1"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := call(t, append([]string{"bench"}, args...)...)
			require.Equal(t, ExitBadInput, code, errOut)
			require.Empty(t, out)
			require.NotContains(t, errOut, "bench: 1/")
		})
	}
}

func TestHelpBenchExplainsTheFloorAndTheBaseline(t *testing.T) {
	code, out, _ := call(t, "help", "bench")
	require.Equal(t, ExitOK, code)
	for _, want := range []string{"raw floor", "-baseline", "-repeats", "-workers",
		"-postgres-url"} {
		require.Contains(t, out, want)
	}
}
