package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dedupsim/dedupsim/scenarios"
)

// load reads each argument as a scenario file, or as the name of a shipped
// scenario when no such file exists. It reads every one before returning,
// so a run starts only when all are good.
func load(args []string, shipped bool) ([]*scenarios.Scenario, error) {
	args = scenarioArgs(args, shipped)
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: name at least one scenario file or shipped "+
			"scenario (see dedupsim list)", errUsage)
	}
	var out []*scenarios.Scenario
	for _, a := range args {
		sc, err := loadOne(a)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// scenarioArgs is what load loads, in order: with -shipped every shipped
// scenario first, then the arguments.
func scenarioArgs(args []string, shipped bool) []string {
	if shipped {
		return append(scenarios.Shipped(), args...)
	}
	return args
}

// input is a file on disk that a scenario reads, and what it is to the
// scenario, for messages.
type input struct {
	path string
	what string
}

// inputs lists the files on disk that sc, loaded from arg, reads: the
// scenario file and the payload files its deliveries name, resolved
// against the scenario's folder as the loader resolves them. A shipped
// scenario reads its files from the binary and none from disk.
func inputs(arg string, sc *scenarios.Scenario) []input {
	// loadOne reads a file when one exists at arg, else a shipped scenario.
	if _, err := os.Stat(arg); err != nil {
		return nil
	}
	out := []input{{arg, "the scenario file " + arg}}
	for _, d := range sc.Deliveries {
		if d.Payload == "" {
			continue
		}
		p := d.Payload
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(arg), p)
		}
		out = append(out, input{p, fmt.Sprintf("the payload file %s of scenario %s",
			p, arg)})
	}
	return out
}

// readBy returns the input that path names, if it is one: the same file
// where both exist, else the same cleaned absolute path.
func readBy(path string, ins []input) (input, bool) {
	for _, in := range ins {
		if sameFile(path, in.path) {
			return in, true
		}
	}
	return input{}, false
}

// sameFile reports whether paths a and b name one file: the same file
// where both exist, else the same cleaned absolute path.
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}

func loadOne(arg string) (*scenarios.Scenario, error) {
	if _, err := os.Stat(arg); err == nil {
		return scenarios.LoadFile(arg)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open scenario %s: %w", arg, err)
	}
	sc, err := scenarios.LoadShipped(arg)
	if errors.Is(err, scenarios.ErrNotShipped) {
		return nil, fmt.Errorf("scenario %s: no such file, nor a shipped scenario "+
			"(see dedupsim list)", arg)
	}
	return sc, err
}

func validateFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.Usage = usage(fs, "dedupsim validate SCENARIO...", `
Checks scenario files (or shipped scenarios, by name) without running them:
the YAML, every field, the payloads and the checkpoints named. Prints one
line per scenario; the first error names the file, line and field.`)
	return fs
}

func validateCmd(args []string, stdout, stderr io.Writer) int {
	fs := validateFlags()
	if err := parse(fs, args, stderr); err != nil {
		return helpOrBad(err)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "dedupsim validate: name at least one scenario file or "+
			"shipped scenario (see dedupsim list)")
		return ExitBadInput
	}
	// Every file is checked, so that one call lists every bad one.
	code := ExitOK
	for _, arg := range fs.Args() {
		sc, err := loadOne(arg)
		if err != nil {
			fmt.Fprintf(stderr, "dedupsim validate: %v\n", err)
			code = ExitBadInput
			continue
		}
		fmt.Fprintf(stdout, "ok  %s  (%s: %s, strategies %s)\n", sc.Path, sc.Name,
			describe(sc.Whole()), strings.Join(sc.Strategies, ", "))
	}
	return code
}

func listFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.Usage = usage(fs, "dedupsim list", `
Lists the scenarios shipped with dedupsim, with what each shows. Run one
with "dedupsim run NAME".`)
	return fs
}

func listCmd(args []string, stdout, stderr io.Writer) int {
	fs := listFlags()
	if err := parse(fs, args, stderr); err != nil {
		return helpOrBad(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dedupsim list: takes no arguments\n")
		return ExitBadInput
	}
	for _, name := range scenarios.Shipped() {
		sc, err := scenarios.LoadShipped(name)
		if err != nil {
			fmt.Fprintf(stderr, "dedupsim list: %v\n", err)
			return ExitFailed
		}
		fmt.Fprintf(stdout, "%-22s %s\n", name, sc.Description)
	}
	return ExitOK
}

func helpOrBad(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	return ExitBadInput
}
