// Package bench measures what each dedup strategy costs and what it
// guarantees: the reference flow's throughput, latency per phase, CPU and
// memory at several worker counts, the database's correctness counters
// after each run, and the same measurements of a raw floor that issues
// the strategy's Redis commands, SQL statements and webhook POSTs directly
// through the clients.
//
// A cell is one kind of worker (flow, floor, or the durable queue alone),
// one strategy and one worker count. Each repeat of a cell runs on a
// fresh database and Redis key space; the workers take their jobs from an
// in-memory channel fed by one goroutine, which hands out each copied
// message's second copy a drawn delay after the first. Every cell of a
// benchmark gets the same workload.
//
// Reports go to an io.Writer as a terminal table, JSON, Markdown or a
// self-contained HTML page with SVG plots; Compare holds a report to a
// baseline, allowing for the noise the repeats show.
package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/dedupsim/dedupsim/sim/backend"
)

// bencher runs the cells of one benchmark.
type bencher struct {
	cfg     Config
	backend backend.Backend
	work    *workload
	// body is the webhook body the floor posts.
	body []byte

	done, total int
}

// Run measures every cell cfg describes on b's servers. An error means
// the benchmark could not be run; a job that failed is counted in its
// cell, not returned.
func Run(ctx context.Context, b backend.Backend, cfg Config) (*Report, error) {
	started := time.Now()
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("run benchmark: %w", err)
	}
	bn, err := newBencher(cfg, b)
	if err != nil {
		return nil, fmt.Errorf("run benchmark: %w", err)
	}
	r := &Report{Format: FormatVersion, Started: started, Backend: b.Name(),
		Environment: environment(), Workload: bn.workloadEcho()}
	if err := bn.cells(ctx, r); err != nil {
		return nil, fmt.Errorf("run benchmark: %w", err)
	}
	if !cfg.SkipHook {
		h := MeasureHook()
		r.Hook = &h
		bn.step("hook", 0)
	}
	r.sortCells()
	r.Duration = time.Since(started).Seconds()
	return r, nil
}

func newBencher(cfg Config, b backend.Backend) (*bencher, error) {
	w, err := newWorkload(cfg)
	if err != nil {
		return nil, err
	}
	body, err := webhookBody(w)
	if err != nil {
		return nil, err
	}
	bn := &bencher{cfg: cfg, backend: b, work: w, body: body}
	kinds := 1
	if !cfg.SkipFloor {
		kinds = 2
	}
	bn.total = len(cfg.Strategies) * len(cfg.Workers) * kinds * cfg.Repeats
	if !cfg.SkipQueue {
		bn.total += len(cfg.Workers) * cfg.Repeats
	}
	if !cfg.SkipHook {
		bn.total++
	}
	return bn, nil
}

// cells measures every strategy at every worker count, then the queue.
func (b *bencher) cells(ctx context.Context, r *Report) error {
	for _, s := range b.cfg.Strategies {
		for _, n := range b.cfg.Workers {
			cells, err := b.measure(ctx, s, n)
			if err != nil {
				return err
			}
			r.Cells = append(r.Cells, cells...)
		}
	}
	if b.cfg.SkipQueue {
		return nil
	}
	for _, n := range b.cfg.Workers {
		c, err := b.measureQueue(ctx, n)
		if err != nil {
			return err
		}
		r.Cells = append(r.Cells, c)
	}
	return nil
}

// measure runs the flow and floor cells of one strategy and worker count,
// alternating their repeats so that a drift of the machine touches both.
func (b *bencher) measure(ctx context.Context, strategy string, workers int) ([]Cell, error) {
	kinds := []string{KindFlow}
	if !b.cfg.SkipFloor {
		kinds = append(kinds, KindFloor)
	}
	samples := make([][]Sample, len(kinds))
	lats := make([]*latencies, len(kinds))
	for i := range kinds {
		lats[i] = newLatencies()
	}
	for rep := range b.cfg.Repeats {
		for i, kind := range kinds {
			s, err := b.runOnce(ctx, kind, strategy, workers, lats[i])
			if err != nil {
				return nil, fmt.Errorf("%s %s workers=%d: %w", kind, strategy, workers, err)
			}
			samples[i] = append(samples[i], s)
			b.step(fmt.Sprintf("%s %s workers=%d repeat %d", kind, strategy, workers,
				rep+1), s.Throughput)
		}
	}
	cells := make([]Cell, len(kinds))
	for i, kind := range kinds {
		cells[i] = newCell(kind, strategy, workers, samples[i], lats[i])
	}
	if len(cells) == 2 && cells[1].Throughput.Median > 0 {
		cells[0].FloorRatio = cells[0].Throughput.Median / cells[1].Throughput.Median
	}
	b.cfg.Logger.InfoContext(ctx, "cell measured", "strategy", strategy,
		"workers", workers, "throughput", round(cells[0].Throughput.Mean),
		"floor_ratio", round(cells[0].FloorRatio))
	return cells, nil
}

// measureQueue runs the queue's cell at one worker count.
func (b *bencher) measureQueue(ctx context.Context, workers int) (Cell, error) {
	lat := newLatencies()
	var samples []Sample
	for rep := range b.cfg.Repeats {
		s, err := b.runQueueOnce(ctx, workers, lat)
		if err != nil {
			return Cell{}, fmt.Errorf("queue workers=%d: %w", workers, err)
		}
		samples = append(samples, s)
		b.step(fmt.Sprintf("queue workers=%d repeat %d", workers, rep+1), s.Throughput)
	}
	return newCell(KindQueue, "queue", workers, samples, lat), nil
}

// step reports one finished run.
func (b *bencher) step(cell string, throughput float64) {
	b.done++
	if b.cfg.Progress != nil {
		b.cfg.Progress(Progress{Done: b.done, Total: b.total, Cell: cell,
			Throughput: throughput})
	}
}

// newCell sums up a cell's repeats.
func newCell(kind, strategy string, workers int, samples []Sample, lat *latencies) Cell {
	c := Cell{Kind: kind, Strategy: strategy, Workers: workers, Samples: samples,
		Latency: lat.summary()}
	var tput []float64
	var cpu float64
	deliveries := 0
	for _, s := range samples {
		tput = append(tput, s.Throughput)
		cpu += s.CPU
		deliveries += s.Deliveries
		c.PeakRSS = max(c.PeakRSS, s.PeakRSS)
		c.PeakHeap = max(c.PeakHeap, s.PeakHeap)
		c.Correctness.add(s.Correctness)
	}
	c.Throughput = summarize(tput)
	if deliveries > 0 {
		c.CPUPerMessage = cpu / float64(deliveries) * 1e6
	}
	return c
}

func (b *bencher) workloadEcho() Workload {
	return Workload{Strategies: b.cfg.Strategies, Workers: b.cfg.Workers,
		Deliveries: b.work.deliveries(), Messages: len(b.work.messages),
		DuplicateRate: b.cfg.DuplicateRate,
		MaxGapMs:      float64(b.cfg.MaxGap) / float64(time.Millisecond),
		DurationS:     b.cfg.Duration.Seconds(), Repeats: b.cfg.Repeats,
		Senders: b.cfg.Senders, Seed: b.cfg.Seed}
}

func environment() Environment {
	return Environment{GoVersion: runtime.Version(), OS: runtime.GOOS,
		Arch: runtime.GOARCH, CPUs: runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), CPUModel: cpuModel()}
}

// round keeps two decimals, for logs.
func round(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
