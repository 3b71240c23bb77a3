// Package cli is the dedupsim command line: it parses arguments, runs the
// subcommands and maps their outcome to an exit code.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes.
const (
	// ExitOK: every expectation held.
	ExitOK = 0
	// ExitNotHeld: a scenario did not meet its expectation.
	ExitNotHeld = 1
	// ExitBadInput: a bad flag, scenario file or payload, or a machine that
	// cannot run the backend; nothing ran.
	ExitBadInput = 2
	// ExitFailed: the simulator itself failed mid-run.
	ExitFailed = 3
	// ExitInterrupted: stopped by Ctrl-C or SIGTERM.
	ExitInterrupted = 130
)

// errUsage marks errors in how the command was called.
var errUsage = errors.New("usage")

const overview = `dedupsim reproduces and checks webhook dedup races: a provider delivers
the same message more than once, workers process the copies at the same
moment, and every provider message id must end as exactly one stored
message and exactly one outgoing webhook — never two, never zero.

Usage:
  dedupsim <command> [flags] [arguments]

Commands:
  run       run scenarios and hold each strategy to its expectation
  validate  check scenario files without running anything
  list      list the scenarios shipped with dedupsim
  matrix    run every configuration against every case: the truth table
  shrink    reduce a failing scenario to a smaller one that still fails
  serve     run the ingest endpoint with workers, on loopback
  replay    replay a capture of deliveries against the ingest endpoint
  scrub     replace the personal details of a capture with pseudonyms
  bench     measure each strategy's cost against the raw floor
  help      show help for a command

Exit codes: 0 every expectation held; 1 one did not; 2 bad input (flags,
scenario files, payloads) or no usable backend, nothing ran; 3 the
simulator failed mid-run; 130 interrupted.

Examples:
  dedupsim run c01-original-race          a shipped scenario, by name
  dedupsim run --shipped --json out.json  every shipped scenario
  dedupsim validate my-burst.yaml

Run "dedupsim help <command>" for a command's flags.
`

// Run runs the command line args and returns the exit code. Output for
// people goes to stdout; logs and errors to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, overview)
		return ExitBadInput
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runCmd(ctx, rest, stdout, stderr)
	case "validate":
		return validateCmd(rest, stdout, stderr)
	case "list":
		return listCmd(rest, stdout, stderr)
	case "matrix":
		return matrixCmd(ctx, rest, stdout, stderr)
	case "serve":
		return serveCmd(ctx, rest, stdout, stderr)
	case "replay":
		return replayCmd(ctx, rest, stdout, stderr)
	case "scrub":
		return scrubCmd(rest, stdout, stderr)
	case "bench":
		return benchCmd(ctx, rest, stdout, stderr)
	case "shrink":
		return shrinkCmd(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		return helpCmd(rest, stdout, stderr)
	}
	fmt.Fprintf(stderr, "dedupsim: unknown command %q\n\n%s", cmd, overview)
	return ExitBadInput
}

func helpCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprint(stdout, overview)
		return ExitOK
	}
	for name, fs := range map[string]*flag.FlagSet{
		"run": runFlags(new(runOptions)), "validate": validateFlags(),
		"list": listFlags(), "matrix": matrixFlags(new(matrixOptions)),
		"serve":  serveFlags(new(serveOptions)),
		"replay": replayFlags(new(replayOptions)),
		"scrub":  scrubFlags(new(scrubOptions)),
		"bench":  benchFlags(new(benchOptions)),
		"shrink": shrinkFlags(new(shrinkOptions)),
	} {
		if name == args[0] {
			fs.SetOutput(stdout)
			fs.Usage()
			return ExitOK
		}
	}
	fmt.Fprintf(stderr, "dedupsim help: unknown command %q\n", args[0])
	return ExitBadInput
}

// parse parses fs's flags from args, writing usage errors to stderr. It
// returns errUsage for a bad flag and flag.ErrHelp for -h. Flags may come
// after the arguments too (dedupsim run c01-original-race --html r.html);
// "--" ends the flags, and fs.Args() holds the arguments in their order.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		rest := fs.Args()
		// The flag package stops at "--" and drops it; what follows is
		// all arguments.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// usage returns a FlagSet.Usage that prints a synopsis, a description and
// the flags.
func usage(fs *flag.FlagSet, synopsis, text string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", synopsis, strings.TrimSpace(text))
		if hasFlags(fs) {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}
