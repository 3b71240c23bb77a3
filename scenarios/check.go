package scenarios

import (
	"encoding/base64"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/sim/check"
)

// Limits on what a scenario may ask for.
const (
	maxWorkers = 256
	maxCopies  = 10000
	maxRuns    = 100000
)

// What the command line may ask for, too: MaxRuns runs per configuration
// (-runs), MaxWorkers workers (serve's and replay's -workers).
const (
	MaxRuns    = maxRuns
	MaxWorkers = maxWorkers
)

// checker validates a decoded scenario, fills in defaults and reads the
// deliveries. It stops at the first problem.
type checker struct {
	file        string
	data        []byte
	s           *Scenario
	readPayload func(string) ([]byte, error)
}

// fail returns an Error located at the YAML path field ("faults[0].at").
func (c *checker) fail(field, format string, args ...any) error {
	line, col := position(c.data, "$."+field)
	return &Error{File: c.file, Line: line, Column: col, Field: field,
		Msg: fmt.Sprintf(format, args...)}
}

func (c *checker) check() error {
	for _, step := range []func() error{
		c.header, c.inboxes, c.subscribers, c.workers, c.strategies,
		c.mutex, c.dispatch, c.ingest, c.deliveries, c.routed, c.media, c.schedule,
		c.faults, c.expectations,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) header() error {
	s := c.s
	if s.Name == "" {
		base := path.Base(strings.ReplaceAll(c.file, "\\", "/"))
		s.Name = strings.TrimSuffix(base, path.Ext(base))
	}
	if s.AppSecret == "" {
		return c.fail("app_secret", "is required: the secret that signs deliveries")
	}
	if s.Runs == 0 {
		s.Runs = 1
	}
	if s.Runs < 0 || s.Runs > maxRuns {
		return c.fail("runs", "must be from 1 to %d, not %d", maxRuns, s.Runs)
	}
	if s.TimeoutMS == 0 {
		s.TimeoutMS = 30000
	}
	if s.TimeoutMS < 0 {
		return c.fail("timeout_ms", "must be positive, not %d", s.TimeoutMS)
	}
	switch s.Isolation {
	case "":
		s.Isolation = "read committed"
	case "read committed", "repeatable read", "serializable":
	default:
		return c.fail("isolation", "unknown level %q (known: read committed, "+
			"repeatable read, serializable)", s.Isolation)
	}
	return nil
}

func (c *checker) inboxes() error {
	if len(c.s.Inboxes) == 0 {
		return c.fail("inboxes", "at least one inbox is required")
	}
	seen := map[string]bool{}
	for i := range c.s.Inboxes {
		in := &c.s.Inboxes[i]
		field := fmt.Sprintf("inboxes[%d]", i)
		if in.PhoneNumberID == "" {
			return c.fail(field+".phone_number_id", "is required")
		}
		if seen[in.PhoneNumberID] {
			return c.fail(field+".phone_number_id", "%q is listed twice", in.PhoneNumberID)
		}
		seen[in.PhoneNumberID] = true
		if in.Name == "" {
			in.Name = "inbox-" + in.PhoneNumberID
		}
	}
	return nil
}

func (c *checker) subscribers() error {
	names := map[string]bool{}
	for i := range c.s.Subscribers {
		sub := &c.s.Subscribers[i]
		field := fmt.Sprintf("subscribers[%d]", i)
		if sub.Name == "" {
			return c.fail(field+".name", "is required")
		}
		if names[sub.Name] {
			return c.fail(field+".name", "%q is listed twice", sub.Name)
		}
		names[sub.Name] = true
		if sub.Path == "" {
			sub.Path = "/webhooks/" + sub.Name
		}
		if !strings.HasPrefix(sub.Path, "/") {
			return c.fail(field+".path", "must start with /, not %q", sub.Path)
		}
		if err := checkSecret(sub.Secret); err != nil {
			return c.fail(field+".secret", "%v", err)
		}
		if sub.LoseResponses < 0 {
			return c.fail(field+".lose_responses", "must not be negative")
		}
	}
	return nil
}

// checkSecret accepts a Standard Webhooks secret: "whsec_" and base64.
func checkSecret(secret string) error {
	raw, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return fmt.Errorf("must be whsec_ followed by base64, not %q", secret)
	}
	if _, err := base64.StdEncoding.DecodeString(raw); err != nil || raw == "" {
		return fmt.Errorf("is not valid base64 after whsec_")
	}
	return nil
}

func (c *checker) workers() error {
	if c.s.Workers == 0 {
		c.s.Workers = 1
	}
	if c.s.Workers < 0 || c.s.Workers > maxWorkers {
		return c.fail("workers", "must be from 1 to %d, not %d", maxWorkers, c.s.Workers)
	}
	return nil
}

func (c *checker) strategies() error {
	if len(c.s.Strategies) == 0 {
		return c.fail("strategies", "at least one strategy is required (known: %s)",
			strings.Join(claim.Names(), ", "))
	}
	for i, name := range c.s.Strategies {
		field := fmt.Sprintf("strategies[%d]", i)
		if _, err := claim.New(name); err != nil {
			return c.fail(field, "unknown strategy %q (known: %s)", name,
				strings.Join(claim.Names(), ", "))
		}
		if slices.Index(c.s.Strategies, name) != i {
			return c.fail(field, "%q is listed twice", name)
		}
	}
	return nil
}

// WorkerNames returns W1 … Wn for n workers.
func WorkerNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("W%d", i+1)
	}
	return names
}

func (c *checker) worker(field, name string) error {
	if !slices.Contains(WorkerNames(c.s.Workers), name) {
		return c.fail(field, "unknown worker %q: the scenario has W1 to W%d",
			name, c.s.Workers)
	}
	return nil
}

// passes checks that checkpoint n exists and that strategy passes it.
func (c *checker) passes(field string, n checkpoint.Name, strategy string) error {
	if !checkpoint.Known(n) {
		return c.fail(field, "unknown checkpoint %q (known: %s)", n, knownCheckpoints())
	}
	st, _ := claim.New(strategy)
	mutex := c.s.Mutex != nil && !slices.Contains(c.s.Mutex.Release, "none")
	passed := flow.Checkpoints(st, len(c.s.Subscribers) > 0, mutex, c.s.hasMedia())
	if !slices.Contains(passed, n) {
		return c.fail(field, "strategy %s never passes checkpoint %s", strategy, n)
	}
	return nil
}

// where checks an at/per_strategy pair for every strategy of the scenario.
func (c *checker) where(field, at string, per map[string]string) error {
	if (at == "") == (len(per) == 0) {
		return c.fail(field, "give exactly one of at and per_strategy")
	}
	for name := range per {
		if !slices.Contains(c.s.Strategies, name) {
			return c.fail(field+".per_strategy."+name,
				"%q is not one of the scenario's strategies", name)
		}
	}
	for _, st := range c.s.Strategies {
		sub := field + ".at"
		if at == "" {
			sub = field + ".per_strategy." + st
		}
		n := CheckpointFor(at, per, st)
		if n == "" {
			return c.fail(field+".per_strategy", "names no checkpoint for strategy %s", st)
		}
		if err := c.passes(sub, n, st); err != nil {
			return err
		}
	}
	return nil
}

func knownCheckpoints() string {
	names := make([]string, len(checkpoint.All))
	for i, n := range checkpoint.All {
		names[i] = string(n)
	}
	return strings.Join(names, ", ")
}

func (c *checker) deliveries() error {
	if len(c.s.Deliveries) == 0 {
		return c.fail("deliveries", "at least one delivery is required")
	}
	for i := range c.s.Deliveries {
		if err := c.delivery(i); err != nil {
			return err
		}
	}
	sort.SliceStable(c.s.Arrivals, func(a, b int) bool {
		return c.s.Arrivals[a].At < c.s.Arrivals[b].At
	})
	return nil
}

func (c *checker) delivery(i int) error {
	d := &c.s.Deliveries[i]
	field := fmt.Sprintf("deliveries[%d]", i)
	given := 0
	for _, set := range []bool{d.Payload != "", d.Inline != "", d.Text != nil} {
		if set {
			given++
		}
	}
	if given != 1 {
		return c.fail(field, "give exactly one of payload, inline and text")
	}
	if d.Copies == 0 {
		d.Copies = 1
	}
	if d.Copies < 0 || d.Copies > maxCopies {
		return c.fail(field+".copies", "must be from 1 to %d, not %d", maxCopies, d.Copies)
	}
	if d.AtMS < 0 || d.GapMS < 0 {
		return c.fail(field, "at_ms and gap_ms must not be negative")
	}
	body, field, err := c.body(d, field)
	if err != nil {
		return err
	}
	parsed, err := meta.Parse(body)
	if err != nil {
		return c.fail(field, "bad payload: %v", err)
	}
	sig := meta.Sign(c.s.AppSecret, body)
	for k := range d.Copies {
		at := time.Duration(d.AtMS+k*d.GapMS) * time.Millisecond
		c.s.Arrivals = append(c.s.Arrivals, Arrival{At: at, Delivery: i, Copy: k + 1,
			Body: body, Signature: sig, Parsed: parsed})
	}
	return nil
}

// body reads a delivery's bytes and names the field they came from.
func (c *checker) body(d *Delivery, field string) ([]byte, string, error) {
	if d.Inline != "" {
		return []byte(d.Inline), field + ".inline", nil
	}
	if t := d.Text; t != nil {
		field += ".text"
		if t.ID == "" || t.From == "" {
			return nil, field, c.fail(field, "a text message needs id and from")
		}
		phone := t.PhoneNumberID
		if phone == "" {
			phone = c.s.Inboxes[0].PhoneNumberID
		}
		msg := meta.TextMessage{ID: t.ID, From: t.From, Name: t.Name, Text: t.Body,
			Timestamp: time.Unix(1767225600, 0)}
		return meta.BuildText(phone, "", "", msg), field, nil
	}
	field += ".payload"
	body, err := c.readPayload(d.Payload)
	if err != nil {
		return nil, field, c.fail(field, "cannot read payload %s: %v", d.Payload, err)
	}
	return body, field, nil
}

func (c *checker) schedule() error {
	sc := &c.s.Schedule
	switch sc.Kind {
	case "":
		sc.Kind = "free"
	case "free", "barrier", "script", "random", "pct", "exhaustive":
	default:
		return c.fail("schedule.kind", "unknown schedule %q (known: free, barrier, "+
			"script, random, pct, exhaustive)", sc.Kind)
	}
	if err := c.kindFields(); err != nil {
		return err
	}
	switch sc.Kind {
	case "barrier":
		if len(sc.Barriers) == 0 {
			return c.fail("schedule.barriers", "kind barrier needs at least one barrier")
		}
	case "script", "random", "pct", "exhaustive":
		return c.serialSchedule()
	}
	for i := range sc.Barriers {
		if err := c.barrier(i); err != nil {
			return err
		}
	}
	return nil
}

// kindFields refuses a schedule field its kind does not take, even one
// written as its zero value: a misplaced field would otherwise be ignored
// without a word.
func (c *checker) kindFields() error {
	sc := &c.s.Schedule
	written := keysAt(c.data, "$.schedule")
	for _, f := range []struct {
		name  string
		set   bool
		kinds []string // the kinds that take it
	}{
		{"release_together", sc.ReleaseTogether, []string{"free"}},
		{"barriers", len(sc.Barriers) > 0, []string{"barrier"}},
		{"steps", len(sc.Steps) > 0, []string{"script"}},
		{"per_strategy", len(sc.PerStrategy) > 0, []string{"script"}},
		{"seed", sc.Seed != 0, []string{"random", "pct"}},
		{"depth", sc.Depth != 0, []string{"pct"}},
		{"max_steps", sc.MaxSteps != 0, []string{"pct"}},
		{"max_runs", sc.MaxRuns != 0, []string{"exhaustive"}},
		{"window", len(sc.Window) > 0, []string{"exhaustive"}},
		{"no_prune", sc.NoPrune, []string{"exhaustive"}},
	} {
		field := "schedule." + f.name
		if slices.Contains(f.kinds, sc.Kind) || !f.set && !written[f.name] {
			continue
		}
		if len(f.kinds) == 1 {
			return c.fail(field, "only kind %s takes %s, not kind %s", f.kinds[0],
				f.name, sc.Kind)
		}
		return c.fail(field, "only kinds %s take %s, not kind %s",
			strings.Join(f.kinds, " and "), f.name, sc.Kind)
	}
	return nil
}

func (c *checker) barrier(i int) error {
	b := &c.s.Schedule.Barriers[i]
	field := fmt.Sprintf("schedule.barriers[%d]", i)
	for j, w := range b.Workers {
		if err := c.worker(fmt.Sprintf("%s.workers[%d]", field, j), w); err != nil {
			return err
		}
	}
	if len(b.PerWorker) == 0 {
		if len(b.Workers) == 0 {
			b.Workers = WorkerNames(c.s.Workers)
		}
		return c.where(field, b.At, b.PerStrategy)
	}
	if b.At != "" || len(b.PerStrategy) > 0 || len(b.Workers) > 0 {
		return c.fail(field, "per_worker goes alone, without at, per_strategy or workers")
	}
	for w, at := range b.PerWorker {
		sub := field + ".per_worker." + w
		if err := c.worker(sub, w); err != nil {
			return err
		}
		for _, st := range c.s.Strategies {
			if err := c.passes(sub, checkpoint.Name(at), st); err != nil {
				return err
			}
		}
		b.Workers = append(b.Workers, w)
	}
	sort.Strings(b.Workers)
	return nil
}

func (c *checker) faults() error {
	for i, f := range c.s.Faults {
		field := fmt.Sprintf("faults[%d]", i)
		if !slices.Contains(faultKinds, f.Kind) {
			return c.fail(field+".kind", "unknown fault %q (known: %s)", f.Kind,
				strings.Join(faultKinds, ", "))
		}
		if f.Kind == "dispatch-twice" {
			if f.Worker != "" || f.Message != "" || f.At != "" || len(f.PerStrategy) > 0 {
				return c.fail(field, "dispatch-twice takes no worker, message or checkpoint")
			}
			continue
		}
		if err := c.target(field, f); err != nil {
			return err
		}
		if f.Kind == "pause" && f.DurationMS <= 0 {
			return c.fail(field+".duration_ms", "a pause needs a positive duration_ms")
		}
		if f.Kind != "pause" && f.DurationMS != 0 {
			return c.fail(field+".duration_ms", "only a pause has a duration")
		}
		if f.Occurrence < 0 || f.Attempt < 0 {
			return c.fail(field, "occurrence and attempt count from 1")
		}
	}
	return nil
}

// routed refuses a scenario none of whose deliveries carries a message
// for one of its inboxes: every run would check nothing and pass.
func (c *checker) routed() error {
	phones := map[string]bool{}
	for _, in := range c.s.Inboxes {
		phones[in.PhoneNumberID] = true
	}
	for _, a := range c.s.Arrivals {
		for _, m := range a.Parsed.Messages {
			if phones[m.PhoneNumberID] {
				return nil
			}
		}
	}
	return c.fail("deliveries", "no delivery carries a message for any of the "+
		"scenario's inboxes (phone_number_id): the runs would check nothing")
}

// relayPasses lists the checkpoints the outbox relay passes.
var relayPasses = []checkpoint.Name{checkpoint.WebhookSend, checkpoint.WebhookAck,
	checkpoint.OutboxMark}

// carries reports whether any delivery carries message id.
func (c *checker) carries(id string) bool {
	for _, a := range c.s.Arrivals {
		for _, m := range a.Parsed.Messages {
			if m.ID == id {
				return true
			}
		}
	}
	return false
}

// outcomeWords lists what can become of a job.
var outcomeWords = []string{"stored", "duplicate", "dropped", "failed", "crashed"}

// faultKinds lists the faults a scenario may name.
var faultKinds = []string{"pause", "error", "crash", "disconnect", "redis-restart",
	"dispatch-twice"}

// target checks who a fault hits and where.
func (c *checker) target(field string, f Fault) error {
	if f.Worker == "" && f.Message == "" {
		return c.fail(field, "name the worker, the message, or both")
	}
	if f.Message != "" && !c.carries(f.Message) {
		return c.fail(field+".message", "no delivery carries message %q", f.Message)
	}
	if f.Worker != "relay" {
		if f.Worker != "" {
			if err := c.worker(field+".worker", f.Worker); err != nil {
				return err
			}
		}
		return c.where(field, f.At, f.PerStrategy)
	}
	if !slices.Contains(c.s.Dispatch, "outbox") {
		return c.fail(field+".worker", "the relay runs only with dispatch: [outbox]")
	}
	if !slices.Contains(relayPasses, checkpoint.Name(f.At)) {
		return c.fail(field+".at", "the relay passes only %v", relayPasses)
	}
	return nil
}

func (c *checker) expectations() error {
	for name, e := range c.s.Expect {
		field := "expect." + name
		if !slices.Contains(c.s.Strategies, name) && !c.isConfig(name) {
			return c.fail(field, "%q is neither a strategy nor a configuration of the "+
				"scenario (configurations: %s)", name, strings.Join(c.configNames(), ", "))
		}
		if e.Messages != nil && *e.Messages < 0 || e.Webhooks != nil && *e.Webhooks < 0 {
			return c.fail(field, "counts must not be negative")
		}
		if e.Webhooks != nil && *e.Webhooks > 0 && len(c.s.Subscribers) == 0 {
			return c.fail(field+".webhooks", "expects webhooks, but the scenario "+
				"has no subscribers to receive them")
		}
		for i, o := range e.Outcomes {
			if !slices.Contains(outcomeWords, o) {
				return c.fail(fmt.Sprintf("%s.outcomes[%d]", field, i),
					"unknown outcome %q (known: %s)", o, strings.Join(outcomeWords, ", "))
			}
		}
		if err := c.properties(field+".broken", e.Broken); err != nil {
			return err
		}
		if err := c.properties(field+".ignore", e.Ignore); err != nil {
			return err
		}
		for _, p := range e.Broken {
			if slices.Contains(e.Ignore, p) {
				return c.fail(field, "%s is both broken and ignored", p)
			}
		}
	}
	return nil
}

func (c *checker) isConfig(name string) bool {
	return slices.Contains(c.configNames(), name)
}

func (c *checker) configNames() []string {
	var names []string
	for _, cfg := range c.s.Configs() {
		names = append(names, cfg.Name())
	}
	return names
}

func (c *checker) mutex() error {
	m := c.s.Mutex
	if m == nil {
		return nil
	}
	if m.TTLMS < 0 || m.RetryIntervalMS < 0 || m.Retries < 0 {
		return c.fail("mutex", "ttl_ms, retry_interval_ms and retries must not be negative")
	}
	if len(m.Release) == 0 {
		m.Release = []string{"plain"}
	}
	for i, r := range m.Release {
		if r != "none" && r != "plain" && r != "owner-checked" {
			return c.fail(fmt.Sprintf("mutex.release[%d]", i),
				"unknown release %q (known: none, plain, owner-checked)", r)
		}
	}
	switch m.OnExhausted {
	case "":
		m.OnExhausted = "fail"
	case "fail", "drop", "proceed":
	default:
		return c.fail("mutex.on_exhausted",
			"unknown choice %q (known: fail, drop, proceed)", m.OnExhausted)
	}
	return nil
}

func (c *checker) media() error {
	if c.s.Media.DelayMS < 0 || c.s.Media.FailFirst < 0 {
		return c.fail("media", "delay_ms and fail_first must not be negative")
	}
	return nil
}

func (c *checker) dispatch() error {
	if len(c.s.Dispatch) == 0 {
		c.s.Dispatch = []string{"direct"}
	}
	for i, d := range c.s.Dispatch {
		if d != "direct" && d != "outbox" {
			return c.fail(fmt.Sprintf("dispatch[%d]", i),
				"unknown dispatch %q (known: direct, outbox)", d)
		}
		if slices.Index(c.s.Dispatch, d) != i {
			return c.fail(fmt.Sprintf("dispatch[%d]", i), "%q is listed twice", d)
		}
	}
	return nil
}

func (c *checker) properties(field string, names []string) error {
	for i, p := range names {
		if !check.Known(check.Property(p)) {
			return c.fail(fmt.Sprintf("%s[%d]", field, i), "unknown property %q (known: %s)",
				p, knownProperties())
		}
	}
	return nil
}

func knownProperties() string {
	names := make([]string, len(check.All))
	for i, p := range check.All {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
