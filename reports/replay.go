package reports

import (
	"slices"
	"strings"

	"github.com/dedupsim/dedupsim/scenarios"
	"github.com/dedupsim/dedupsim/sim"
)

// ReplayCommand is the command line that runs strategy of r's scenario
// again, on the same backend: "dedupsim run --strategy legacy c01-original-race".
// A shipped scenario is named by its name, any other by its file's path.
func ReplayCommand(r sim.ScenarioResult, strategy string) string {
	args := []string{"dedupsim", "run"}
	if r.Backend != "" && r.Backend != "embedded" {
		args = append(args, "--backend", r.Backend)
	}
	args = append(args, "--strategy", strategy, ScenarioArg(r))
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// ScenarioArg is how the command line names r's scenario: its name when
// it is a shipped scenario, otherwise the path it was read from.
func ScenarioArg(r sim.ScenarioResult) string {
	if r.Path == r.Scenario+".yaml" && slices.Contains(scenarios.Shipped(), r.Scenario) {
		return r.Scenario
	}
	if r.Path == "" {
		return r.Scenario
	}
	return PathArg(r.Path)
}

// PathArg is path as a command-line argument: one starting with a dash
// gets "./" in front, so that it is not taken for a flag.
func PathArg(path string) string {
	if strings.HasPrefix(path, "-") {
		return "./" + path
	}
	return path
}

// ShellQuote quotes s for a POSIX shell when it holds anything but
// characters that are safe unquoted.
func ShellQuote(s string) string { return shellQuote(s) }

// shellQuote quotes s for a POSIX shell when it holds anything but
// characters that are safe unquoted.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, unsafeInShell) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func unsafeInShell(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./:=@%+,", r)
}
