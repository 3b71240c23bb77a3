package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// FormatVersion is the version of the JSON layout. Fields are only ever
// added within a version; a reader of version n reads any file of n.
const FormatVersion = 1

// Kinds of cell.
const (
	// KindFlow drives core/flow workers.
	KindFlow = "flow"
	// KindFloor issues the same Redis commands, SQL statements and POSTs
	// directly through the clients.
	KindFloor = "floor"
	// KindQueue takes and completes jobs of the durable queue.
	KindQueue = "queue"
)

// Report is everything one benchmark measured.
type Report struct {
	Format      int         `json:"format"`
	Started     time.Time   `json:"started"`
	Duration    float64     `json:"duration_s"`
	Backend     string      `json:"backend"`
	Environment Environment `json:"environment"`
	Workload    Workload    `json:"workload"`
	Cells       []Cell      `json:"cells"`
	// Hook is the cost of passing one checkpoint; nil when skipped.
	Hook *HookCost `json:"hook,omitempty"`
}

// Environment is the machine a benchmark ran on.
type Environment struct {
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpu_model,omitempty"`
}

// Workload is the configuration every cell ran with.
type Workload struct {
	Strategies    []string `json:"strategies"`
	Workers       []int    `json:"workers"`
	Deliveries    int      `json:"deliveries"`
	Messages      int      `json:"messages"`
	DuplicateRate float64  `json:"duplicate_rate"`
	MaxGapMs      float64  `json:"max_gap_ms"`
	DurationS     float64  `json:"duration_s,omitempty"`
	Repeats       int      `json:"repeats"`
	Senders       int      `json:"senders"`
	Seed          uint64   `json:"seed"`
}

// Cell is one kind of worker, one strategy and one worker count, over
// all its repeats.
type Cell struct {
	Kind     string `json:"kind"`
	Strategy string `json:"strategy"`
	Workers  int    `json:"workers"`
	// Samples has one entry per repeat.
	Samples []Sample `json:"samples"`
	// Throughput is messages per second over the repeats.
	Throughput Stats `json:"throughput"`
	// FloorRatio is this flow cell's median throughput over its floor's,
	// 0 when there is no floor. Medians, so that one repeat stalled by
	// the machine does not sway it.
	FloorRatio float64 `json:"floor_ratio,omitempty"`
	// Latency describes the total and each phase, in milliseconds.
	Latency map[string]Latency `json:"latency"`
	// CPUPerMessage is process CPU time per delivery, in microseconds.
	CPUPerMessage float64 `json:"cpu_us_per_message"`
	// PeakRSS and PeakHeap are the highest over the repeats, in bytes.
	PeakRSS  int64 `json:"peak_rss_bytes"`
	PeakHeap int64 `json:"peak_heap_bytes"`
	// Correctness sums the repeats' counters.
	Correctness Correctness `json:"correctness"`
}

// Sample is one repeat of a cell.
type Sample struct {
	Deliveries int     `json:"deliveries"`
	Elapsed    float64 `json:"elapsed_s"`
	Throughput float64 `json:"throughput"`
	CPU        float64 `json:"cpu_s"`
	PeakRSS    int64   `json:"peak_rss_bytes"`
	PeakHeap   int64   `json:"peak_heap_bytes"`
	// FirstError is the first job error of the repeat, if any.
	FirstError string `json:"first_error,omitempty"`
	Correctness
}

// Correctness is what the database held after a run.
type Correctness struct {
	// Messages counts the distinct messages fed.
	Messages int `json:"messages"`
	// Duplicates counts rows beyond the first of a message part.
	Duplicates int `json:"duplicates"`
	// Lost counts fed messages with no row.
	Lost int `json:"lost"`
	// Webhooks counts the POSTs the subscriber answered.
	Webhooks int `json:"webhooks"`
	// Errors counts jobs that ended in an error.
	Errors int `json:"errors"`
}

// add sums o into c.
func (c *Correctness) add(o Correctness) {
	c.Messages += o.Messages
	c.Duplicates += o.Duplicates
	c.Lost += o.Lost
	c.Webhooks += o.Webhooks
	c.Errors += o.Errors
}

// Stats summarizes repeated measurements.
type Stats struct {
	N      int     `json:"n"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	StdDev float64 `json:"stddev"`
	// CI95 is the half-width of the mean's 95 % confidence interval, 0
	// with fewer than two values.
	CI95 float64 `json:"ci95"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// Latency describes one latency series in milliseconds.
type Latency struct {
	Count int64        `json:"count"`
	Mean  float64      `json:"mean_ms"`
	P50   float64      `json:"p50_ms"`
	P95   float64      `json:"p95_ms"`
	P99   float64      `json:"p99_ms"`
	Max   float64      `json:"max_ms"`
	Curve []CurvePoint `json:"curve"`
}

// CurvePoint is the latency at one percentile.
type CurvePoint struct {
	Percentile float64 `json:"percentile"`
	Ms         float64 `json:"ms"`
}

// HookCost is what one checkpoint costs a worker: Tracer.Enter and Done.
type HookCost struct {
	// NilNs is the cost with no hook, as outside the simulator.
	NilNs float64 `json:"nil_ns"`
	// RecordingNs is the cost through a schedule.Controller that records
	// the history and holds nothing: no barrier, no fault.
	RecordingNs     float64 `json:"recording_ns"`
	RecordingAllocs int64   `json:"recording_allocs"`
	RecordingBytes  int64   `json:"recording_bytes"`
	// RecordingCPUNs is the process CPU time of the same, which the
	// machine's other work does not inflate as it does wall time.
	RecordingCPUNs float64 `json:"recording_cpu_ns"`
}

// Key names a cell within a report, such as "flow setnx workers=8".
func (c Cell) Key() string {
	return fmt.Sprintf("%s %s workers=%d", c.Kind, c.Strategy, c.Workers)
}

// Find returns the cell of kind, strategy and workers.
func (r *Report) Find(kind, strategy string, workers int) (Cell, bool) {
	for _, c := range r.Cells {
		if c.Kind == kind && c.Strategy == strategy && c.Workers == workers {
			return c, true
		}
	}
	return Cell{}, false
}

// sortCells orders cells by strategy, then workers, then kind.
func (r *Report) sortCells() {
	slices.SortStableFunc(r.Cells, func(a, b Cell) int {
		return cmp.Or(cmp.Compare(a.Strategy, b.Strategy),
			cmp.Compare(a.Workers, b.Workers), cmp.Compare(a.Kind, b.Kind))
	})
}

// JSON writes r as indented JSON.
func JSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// ErrFormat is wrapped by errors about a JSON report that cannot be read.
var ErrFormat = fmt.Errorf("not a dedupsim bench report of format %d", FormatVersion)

// ReadJSON reads a report JSON wrote.
func ReadJSON(r io.Reader) (*Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("read bench report: %w: %w", ErrFormat, err)
	}
	if rep.Format != FormatVersion {
		return nil, fmt.Errorf("read bench report: format %d: %w", rep.Format,
			ErrFormat)
	}
	return &rep, nil
}
