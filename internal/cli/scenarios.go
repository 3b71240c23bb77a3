package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dedupsim/dedupsim/scenarios"
)

// load reads each argument as a scenario file, or as the name of a shipped
// scenario when no such file exists. It reads every one before returning,
// so a run starts only when all are good.
func load(args []string, shipped bool) ([]*scenarios.Scenario, error) {
	if shipped {
		args = append(scenarios.Shipped(), args...)
	}
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
