package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dedupsim/dedupsim/capture"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/sim/live"
)

type replayOptions struct {
	endpointOptions
	appSecret, secret       string
	speed                   float64
	wait                    time.Duration
	expectRows, expectHooks int
}

func replayFlags(o *replayOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.StringVar(&o.appSecret, "app-secret", "",
		"the app `SECRET` the capture was signed with; the endpoint verifies with it")
	fs.StringVar(&o.secret, "secret", "",
		"re-sign every delivery with `SECRET`, which the endpoint then verifies with")
	fs.Float64Var(&o.speed, "speed", 1,
		"replay `FACTOR` times faster than recorded (10: a second becomes 100 ms)")
	fs.DurationVar(&o.wait, "wait", 30*time.Second,
		"after the last answer, how long the workers may take to finish the queue "+
			"(not negative)")
	fs.IntVar(&o.expectRows, "expect-messages", -1,
		"expect `N` stored messages per message part; -1 expects nothing")
	fs.IntVar(&o.expectHooks, "expect-webhooks", -1,
		"expect `N` distinct webhook ids per message part; -1 expects nothing")
	addEndpointFlags(fs, &o.endpointOptions)
	fs.Usage = usage(fs, "dedupsim replay [flags] CAPTURE.jsonl", `
Replays a capture (docs/capture-format.md: one delivery a line, with its
arrival time, headers and exact body bytes) against the reference ingest
endpoint, started on loopback with workers on the embedded backend (or the
one -backend names). Each delivery is sent at its recorded time divided by
-speed, on its own, so copies recorded close together overlap. Then it
prints per message id its jobs, stored rows and webhooks, how many requests
were answered 200, and the verdict of the properties.

Signatures: the endpoint verifies with -secret when it is given, else with
-app-secret; one of them is required. Without -secret every delivery goes
out with its recorded signature, and a line that does not verify under
-app-secret is named before the replay: it will be answered 401. With
-secret every delivery is signed anew, except that a delivery recorded
without a signature stays without, and, when -app-secret is also given,
one whose recorded signature fails under it is signed so it fails again.

Inboxes: every phone number id the capture's bodies name, unless -inbox
names them. -pause-at and -pause hold every worker at a checkpoint, to
make copies overlap inside the guard (legacy: -pause-at claim.mark).

Exit codes: 0 the replay ran and met -expect-messages and -expect-webhooks
when given; 1 it did not meet them; 2 bad input; 3 the replay failed.`)
	return fs
}

func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o replayOptions
	fs := replayFlags(&o)
	files, err := parseInterleaved(fs, args, stderr)
	if err != nil {
		return helpOrBad(err)
	}
	ds, err := o.load(files)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim replay: %v\n", err)
		return ExitBadInput
	}
	ids := phoneNumberIDs(ds)
	if len(o.inboxes) == 0 {
		o.inboxes = ids
	}
	if len(o.inboxes) == 0 {
		fmt.Fprintln(stderr, "dedupsim replay: no body names a phone number id; "+
			"give -inbox")
		return ExitBadInput
	}
	if len(ids) > 0 && !slices.ContainsFunc(ids, func(id string) bool {
		return slices.Contains(o.inboxes, id)
	}) {
		fmt.Fprintf(stderr, "dedupsim replay: -inbox: no body of the capture is for %s, "+
			"so no message would be routed and the replay would check nothing; "+
			"its bodies name phone number ids %s\n", strings.Join(o.inboxes, ", "),
			strings.Join(ids, ", "))
		return ExitBadInput
	}
	ds = o.sign(ds, stdout)
	return o.replay(ctx, files[0], ds, stdout, stderr)
}

// load checks the flags and reads the capture.
func (o replayOptions) load(files []string) ([]capture.Delivery, error) {
	switch {
	case len(files) != 1:
		return nil, errors.New("name one capture file")
	case o.secret == "" && o.appSecret == "":
		return nil, errors.New("give -app-secret (the secret the capture was " +
			"signed with) or -secret (to sign it anew)")
	case !(o.speed > 0) || math.IsInf(o.speed, 1):
		return nil, fmt.Errorf("-speed must be positive and finite, not %v", o.speed)
	case o.wait < 0:
		return nil, fmt.Errorf("-wait must not be negative, not %s", o.wait)
	case o.expectRows < -1 || o.expectHooks < -1:
		return nil, errors.New("-expect-messages and -expect-webhooks count from 0")
	}
	if err := o.endpointOptions.check(); err != nil {
		return nil, err
	}
	ds, err := capture.ReadFile(files[0])
	if err == nil && len(ds) == 0 {
		err = fmt.Errorf("capture %s holds no delivery", files[0])
	}
	return ds, err
}

// sign re-signs the capture for -secret, or names the lines whose
// recorded signature -app-secret does not verify.
func (o replayOptions) sign(ds []capture.Delivery, stdout io.Writer) []capture.Delivery {
	if o.secret != "" {
		return capture.Resign(ds, o.secret, o.appSecret)
	}
	for _, line := range capture.Unverified(ds, o.appSecret) {
		fmt.Fprintf(stdout, "note: line %d's signature does not verify with "+
			"-app-secret; expect 401\n", line)
	}
	return ds
}

// replay runs the endpoint, sends the capture, waits for the workers and
// prints what became of it.
func (o replayOptions) replay(ctx context.Context, name string,
	ds []capture.Delivery, stdout, stderr io.Writer) int {
	log := endpointLogger(stderr, o.verbose)
	cfg := o.config(cmp.Or(o.secret, o.appSecret), "")
	cfg.Logger = log
	b, code := startBackend(ctx, o.backend, log, "replay", stderr)
	if b == nil {
		return code
	}
	defer b.Close()
	ep, err := live.Start(ctx, b, cfg)
	if err != nil {
		return endpointFailed("replay", err, stderr)
	}
	defer ep.Close()

	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	results, err := capture.Send(ctx, client, ep.URL(), ds, o.speed)
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim replay: %v\n", err)
		return ExitInterrupted
	}
	waitCtx, cancel := context.WithTimeout(ctx, o.wait)
	defer cancel()
	if err := ep.Drain(waitCtx); err != nil {
		fmt.Fprintf(stderr, "dedupsim replay: %v\n", err)
	}
	s, err := ep.Summary(context.WithoutCancel(ctx))
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim replay: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(stdout, "replay %s: %d deliveries, %s (strategy %s, %d workers, "+
		"speed %v)\n", name, len(ds), answers(results), cfg.Strategy, cfg.Workers,
		o.speed)
	printSummary(stdout, s)
	return o.verdict(s, stdout)
}

// answers says how many requests were answered 200, and how the rest were.
func answers(results []capture.Result) string {
	ok := 0
	other := map[string]int{}
	for _, r := range results {
		switch {
		case r.Status == http.StatusOK:
			ok++
		case r.Err != nil:
			other["no answer"]++
		default:
			other[fmt.Sprint(r.Status)]++
		}
	}
	out := fmt.Sprintf("%d of %d requests answered 200", ok, len(results))
	for what, n := range other {
		out += fmt.Sprintf(", %d %s", n, what)
	}
	return out
}

// verdict holds the summary to -expect-messages and -expect-webhooks.
func (o replayOptions) verdict(s live.Summary, stdout io.Writer) int {
	if o.expectRows < 0 && o.expectHooks < 0 {
		return ExitOK
	}
	var misses []string
	for _, t := range s.Judgement.Tallies {
		if o.expectRows >= 0 && t.Messages != o.expectRows {
			misses = append(misses, fmt.Sprintf("%s: %d messages, expected %d",
				t.Part, t.Messages, o.expectRows))
		}
		n := t.WebhookIDs[live.SubscriberPath]
		if o.expectHooks >= 0 && n != o.expectHooks {
			misses = append(misses, fmt.Sprintf("%s: %d webhooks, expected %d",
				t.Part, n, o.expectHooks))
		}
	}
	if len(misses) == 0 {
		fmt.Fprintln(stdout, "  expectation: held")
		return ExitOK
	}
	fmt.Fprintln(stdout, "  expectation: not held")
	for _, m := range misses {
		fmt.Fprintf(stdout, "    %s\n", m)
	}
	return ExitNotHeld
}

// phoneNumberIDs lists the phone number ids the bodies name, in order of
// first appearance; bodies that do not parse name none.
func phoneNumberIDs(ds []capture.Delivery) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, d := range ds {
		parsed, err := meta.Parse(d.Body)
		if err != nil {
			continue
		}
		for _, m := range parsed.Messages {
			add(m.PhoneNumberID)
		}
		for _, s := range parsed.Statuses {
			add(s.PhoneNumberID)
		}
	}
	return ids
}
