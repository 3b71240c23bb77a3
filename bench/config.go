package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/dedupsim/dedupsim/core/claim"
)

// ErrInvalidConfig is wrapped by errors about a Config field.
var ErrInvalidConfig = errors.New("invalid bench config")

// Config describes one benchmark. The zero value measures every strategy
// at the default worker counts with the default workload.
type Config struct {
	// Strategies are the dedup strategies measured, by name. Default:
	// every strategy.
	Strategies []string

	// Workers are the concurrency levels. Default: 1, 2, 8, 32, 64.
	Workers []int

	// Deliveries is how many jobs each cell processes, duplicate copies
	// included. Default: 300.
	Deliveries int

	// Duration, when positive, stops feeding a cell's messages once it
	// has passed, even with deliveries left; copies already due still
	// arrive. Default: none, every delivery is fed.
	Duration time.Duration

	// DuplicateRate is the share of deliveries that are a second copy of
	// another delivery's message, at most 0.5. Default: 0.10; a negative
	// value means no copies at all.
	DuplicateRate float64

	// MaxGap bounds how long after its original a copy is handed out: each
	// copy waits a uniformly drawn time in [0, MaxGap]. Default: 100ms.
	MaxGap time.Duration

	// Repeats is how many times each cell runs; the spread of the repeats
	// is the noise a baseline comparison allows for. Default: 3.
	Repeats int

	// Senders is how many contacts the messages come from. Default: 50.
	Senders int

	// Seed draws the workload: which messages are copied and when.
	// Default: 1. Every cell of a benchmark gets the same workload.
	Seed uint64

	// SkipFloor leaves out the raw floor, and with it the ratios.
	SkipFloor bool
	// SkipQueue leaves out the durable queue's row.
	SkipQueue bool
	// SkipHook leaves out the checkpoint hook's micro-benchmark.
	SkipHook bool

	// Logger receives a record per cell. Default: discards.
	Logger *slog.Logger

	// Progress, when set, is called after each cell run.
	Progress func(Progress)
}

// Progress says how far a benchmark has come.
type Progress struct {
	// Done and Total count cell runs, repeats included.
	Done, Total int
	// Cell names the run that just ended, such as "flow setnx workers=8
	// repeat 2".
	Cell string
	// Throughput is its messages per second, 0 for the hook benchmark.
	Throughput float64
}

// DefaultWorkers are the concurrency levels measured by default.
var DefaultWorkers = []int{1, 2, 8, 32, 64}

// Defaults of the Config fields.
const (
	DefaultDeliveries    = 300
	DefaultDuplicateRate = 0.10
	DefaultMaxGap        = 100 * time.Millisecond
	DefaultRepeats       = 3
	DefaultSenders       = 50
)

// maxWorkers bounds a cell's workers: each holds a Postgres connection.
const maxWorkers = 256

// withDefaults returns c with every unset field given its default.
func (c Config) withDefaults() Config {
	if len(c.Strategies) == 0 {
		c.Strategies = claim.Names()
	}
	if len(c.Workers) == 0 {
		c.Workers = DefaultWorkers
	}
	c.Strategies = slices.Clone(c.Strategies)
	c.Workers = slices.Clone(c.Workers)
	if c.Deliveries == 0 {
		c.Deliveries = DefaultDeliveries
	}
	switch {
	case c.DuplicateRate == 0:
		c.DuplicateRate = DefaultDuplicateRate
	case c.DuplicateRate < 0:
		c.DuplicateRate = 0
	}
	if c.MaxGap == 0 {
		c.MaxGap = DefaultMaxGap
	}
	if c.Repeats == 0 {
		c.Repeats = DefaultRepeats
	}
	if c.Senders == 0 {
		c.Senders = DefaultSenders
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first field of c that cannot work, once the
// defaults are filled in, so that a caller can refuse a configuration
// before it starts any server.
func (c Config) Validate() error {
	return c.withDefaults().validate()
}

// validate reports the first field that cannot work.
func (c Config) validate() error {
	for _, s := range c.Strategies {
		if _, err := claim.New(s); err != nil {
			return fmt.Errorf("strategies: %w: %w", ErrInvalidConfig, err)
		}
	}
	for _, w := range c.Workers {
		if w < 1 || w > maxWorkers {
			return fmt.Errorf("workers %d: %w: want 1 to %d", w, ErrInvalidConfig,
				maxWorkers)
		}
	}
	switch {
	case c.Deliveries < 1:
		return fmt.Errorf("deliveries %d: %w: want at least 1", c.Deliveries,
			ErrInvalidConfig)
	case c.Duration < 0:
		return fmt.Errorf("duration %s: %w: negative", c.Duration, ErrInvalidConfig)
	case c.DuplicateRate > 0.5:
		return fmt.Errorf("duplicate rate %g: %w: at most 0.5", c.DuplicateRate,
			ErrInvalidConfig)
	case c.MaxGap < 0:
		return fmt.Errorf("max gap %s: %w: negative", c.MaxGap, ErrInvalidConfig)
	case c.Repeats < 1:
		return fmt.Errorf("repeats %d: %w: want at least 1", c.Repeats,
			ErrInvalidConfig)
	case c.Senders < 1:
		return fmt.Errorf("senders %d: %w: want at least 1", c.Senders,
			ErrInvalidConfig)
	}
	return nil
}
