package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/dedupsim/dedupsim/sim/backend"
	"github.com/dedupsim/dedupsim/sim/live"
)

type serveOptions struct {
	endpointOptions
	addr      string
	appSecret string
	token     string
	drain     time.Duration
}

func serveFlags(o *serveOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080",
		"the loopback `HOST:PORT` to listen on")
	fs.StringVar(&o.appSecret, "app-secret", "",
		"the app `SECRET` that signs deliveries (required)")
	fs.StringVar(&o.token, "verify-token", "",
		"the `TOKEN` the subscription handshake must carry (default: refuse "+
			"every handshake)")
	fs.DurationVar(&o.drain, "drain", 5*time.Second,
		"on Ctrl-C, how long the workers may go on with the queue")
	addEndpointFlags(fs, &o.endpointOptions)
	fs.Usage = usage(fs, "dedupsim serve -app-secret SECRET -inbox ID [flags]", `
Runs the reference ingest endpoint on a loopback address, with workers
processing its queue on the embedded backend (or the one -backend names):
POST deliveries to it (signed with X-Hub-Signature-256), GET it for the
subscription handshake. Each accepted message is a durable job before the
answer; the workers store it and send its webhook to a recording subscriber
inside the process.

On Ctrl-C it stops taking requests, lets the workers finish the queue for
up to -drain, and prints per message id what became of it: its jobs, its
stored rows and its webhooks, and the verdict of the properties. Nothing
is kept.`)
	return fs
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o serveOptions
	fs := serveFlags(&o)
	if err := parse(fs, args, stderr); err != nil {
		return helpOrBad(err)
	}
	if err := o.check(fs); err != nil {
		fmt.Fprintf(stderr, "dedupsim serve: %v\n", err)
		return ExitBadInput
	}
	log := endpointLogger(stderr, o.verbose)
	cfg := o.config(o.appSecret, o.token)
	cfg.Addr, cfg.Logger = o.addr, log

	b, code := startBackend(ctx, o.backend, log, "serve", stderr)
	if b == nil {
		return code
	}
	defer b.Close()
	ep, err := live.Start(ctx, b, cfg)
	if err != nil {
		return endpointFailed("serve", err, stderr)
	}
	defer ep.Close()

	fmt.Fprintf(stdout, "listening on %s (strategy %s, %d workers); Ctrl-C prints "+
		"what became of each message\n", ep.URL(), cfg.Strategy, cfg.Workers)
	<-ctx.Done()
	return finishServe(ep, o.drain, stdout, stderr)
}

// check rejects flags serve cannot run with.
func (o serveOptions) check(fs *flag.FlagSet) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("takes no arguments, got %q", fs.Args())
	case o.appSecret == "":
		return errors.New("-app-secret is required: the secret that signs deliveries")
	case len(o.inboxes) == 0:
		return errors.New("-inbox is required: the phone number ids to route")
	case o.drain < 0:
		return fmt.Errorf("-drain must not be negative, not %s", o.drain)
	}
	if err := o.endpointOptions.check(); err != nil {
		return err
	}
	return checkAddr(o.addr)
}

// checkAddr checks -addr before anything starts: a host:port whose port
// is a number from 0 (a free port) to 65535, on the loopback interface.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr: %q is not HOST:PORT: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("-addr: port %q of %s must be a number from 0 (a free port) "+
			"to 65535", port, addr)
	}
	if err := live.CheckLoopback(addr); err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	return nil
}

// finishServe stops the endpoint, drains the queue and prints the summary.
func finishServe(ep *live.Endpoint, drain time.Duration, stdout,
	stderr io.Writer) int {
	if err := ep.StopIngest(); err != nil {
		fmt.Fprintf(stderr, "dedupsim serve: %v\n", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := ep.Drain(ctx); err != nil {
		fmt.Fprintf(stderr, "dedupsim serve: %v\n", err)
	}
	s, err := ep.Summary(context.Background())
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim serve: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintln(stdout, "\nstopped; what became of each message:")
	printSummary(stdout, s)
	return ExitOK
}

// endpointLogger logs warnings, or everything down to info with -v.
func endpointLogger(stderr io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// startBackend resolves and starts the backend the flags name. On failure
// it says why on stderr and returns the exit code.
func startBackend(ctx context.Context, o runOptions, log *slog.Logger, cmd string,
	stderr io.Writer) (backend.Backend, int) {
	name, err := o.backendName()
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim %s: %v\n", cmd, err)
		return nil, ExitBadInput
	}
	b, err := openBackend(ctx, o, name, log)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim %s: start backend: %v\n", cmd, err)
		switch {
		case ctx.Err() != nil:
			return nil, ExitInterrupted
		case errors.Is(err, backend.ErrUnavailable):
			return nil, ExitBadInput
		}
		return nil, ExitFailed
	}
	return b, ExitOK
}

// endpointFailed reports an endpoint that would not start.
func endpointFailed(cmd string, err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "dedupsim %s: %v\n", cmd, err)
	if errors.Is(err, live.ErrInvalidConfig) || errors.Is(err, live.ErrNotLoopback) {
		return ExitBadInput
	}
	return ExitFailed
}
