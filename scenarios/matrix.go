package scenarios

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"unicode"
)

//go:embed matrix.expected
var matrixExpected []byte

// Expected is the hand-written verdict of every matrix cell, by
// configuration name and then short scenario name.
type Expected struct {
	// Scenarios lists the short scenario names in column order.
	Scenarios []string
	// Configs lists the configuration names in row order.
	Configs []string
	Cells   map[string]map[string]string
}

// ShortName is a scenario's column name in the matrix: its name up to the
// first dash, such as "c05b".
func ShortName(name string) string {
	short, _, _ := strings.Cut(name, "-")
	return short
}

// MatrixExpected reads the committed expectations of the matrix.
func MatrixExpected() (*Expected, error) {
	return ParseExpected(matrixExpected)
}

// ParseExpected reads an expectations grid: a header line "config" and the
// short scenario names, then one line per configuration.
func ParseExpected(data []byte) (*Expected, error) {
	e := &Expected{Cells: map[string]map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if e.Scenarios == nil {
			if fields[0] != "config" {
				return nil, fmt.Errorf("matrix.expected:%d: the first line names the "+
					"columns: config, then the scenarios", line)
			}
			e.Scenarios = fields[1:]
			continue
		}
		if len(fields) != len(e.Scenarios)+1 {
			return nil, fmt.Errorf("matrix.expected:%d: %d cells for %d scenarios",
				line, len(fields)-1, len(e.Scenarios))
		}
		e.Configs = append(e.Configs, fields[0])
		e.Cells[fields[0]] = map[string]string{}
		for i, cell := range fields[1:] {
			e.Cells[fields[0]][e.Scenarios[i]] = cell
		}
	}
	return e, sc.Err()
}

// Matches reports whether an observed cell code meets an expected one.
// Expected "ok": nothing broke; "-": the scenario does not apply; "obs":
// shown, not gated. Otherwise each upper-case letter must be in the
// observed code, and each lower-case letter may be; no other letter may.
// "unknown" meets nothing.
func Matches(expected, observed string) bool {
	switch {
	case observed == "unknown":
		return false
	case expected == "obs":
		return true
	case expected == "-" || observed == "-":
		return expected == observed
	}
	must, may := map[rune]bool{}, map[rune]bool{}
	if expected != "ok" {
		for _, r := range expected {
			if unicode.IsUpper(r) {
				must[r] = true
			} else {
				may[unicode.ToUpper(r)] = true
			}
		}
	}
	got := map[rune]bool{}
	if observed != "ok" {
		for _, r := range observed {
			if unicode.IsLetter(r) {
				got[r] = true
			}
		}
	}
	for r := range must {
		if !got[r] {
			return false
		}
	}
	for r := range got {
		if !must[r] && !may[r] {
			return false
		}
	}
	return true
}
