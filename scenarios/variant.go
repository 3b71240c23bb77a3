package scenarios

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/flow"
)

// ErrNotApplicable is wrapped by Variant's error when the scenario cannot
// run a configuration: its barriers or faults name a checkpoint the
// configuration never passes, or the relay without an outbox.
var ErrNotApplicable = errors.New("scenario does not apply")

// MatrixMutex is the job mutex the matrix layers on scenarios that do not
// set their own: short retries, and a refused job fails so the queue
// retries it.
var MatrixMutex = Mutex{TTLMS: 30000, RetryIntervalMS: 20, Retries: 10,
	OnExhausted: "fail"}

// Variant returns a copy of s that runs only cfg, with no expectations.
// The mutex settings are the scenario's own, or MatrixMutex.
func (s *Scenario) Variant(cfg Config) (*Scenario, error) {
	v := *s
	v.Strategies = []string{cfg.Strategy}
	v.Dispatch = []string{cfg.Dispatch}
	v.Expect = nil
	m := MatrixMutex
	if s.Mutex != nil {
		m = *s.Mutex
	}
	m.Release = []string{cmpOr(cfg.Mutex, "none")}
	v.Mutex = &m
	if err := v.applies(cfg); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotApplicable, err)
	}
	return &v, nil
}

// applies checks that cfg passes every checkpoint the scenario's barriers
// and faults hold workers at.
func (s *Scenario) applies(cfg Config) error {
	passed, err := s.Passes(cfg)
	if err != nil {
		return err
	}
	need := func(n checkpoint.Name) error {
		if n == "" || !slices.Contains(passed, n) {
			return fmt.Errorf("%s never passes checkpoint %q", cfg.Name(), n)
		}
		return nil
	}
	for _, b := range s.Schedule.Barriers {
		for _, w := range b.Workers {
			n, ok := b.PerWorker[w]
			if !ok {
				n = string(CheckpointFor(b.At, b.PerStrategy, cfg.Strategy))
			}
			if err := need(checkpoint.Name(n)); err != nil {
				return err
			}
		}
	}
	for _, f := range s.Faults {
		switch {
		case f.Kind == "dispatch-twice":
		case f.Worker == "relay" && cfg.Dispatch != "outbox":
			return fmt.Errorf("%s has no outbox relay", cfg.Name())
		case f.Worker != "relay":
			if err := need(CheckpointFor(f.At, f.PerStrategy, cfg.Strategy)); err != nil {
				return err
			}
		}
	}
	return nil
}

// AllConfigs lists every configuration the tool knows: each strategy,
// without a job mutex and under each release style, with each dispatch.
func AllConfigs() []Config {
	var out []Config
	for _, st := range claim.Names() {
		for _, m := range []string{"", "plain", "owner-checked"} {
			for _, d := range []string{"direct", "outbox"} {
				out = append(out, Config{Strategy: st, Mutex: m, Dispatch: d})
			}
		}
	}
	return out
}

// Passes lists the checkpoints a worker of s passes under cfg.
func (s *Scenario) Passes(cfg Config) ([]checkpoint.Name, error) {
	st, err := claim.New(cfg.Strategy)
	if err != nil {
		return nil, err
	}
	return flow.Checkpoints(st, len(s.Subscribers) > 0, cfg.Mutex != "", s.hasMedia()), nil
}

// hasMedia reports whether any delivery carries a media message.
func (s *Scenario) hasMedia() bool {
	for _, a := range s.Arrivals {
		for _, m := range a.Parsed.Messages {
			if m.Media != nil {
				return true
			}
		}
	}
	return false
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
