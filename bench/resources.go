package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// usage is the process's own use of the machine during one cell run:
// CPU time and the high-water marks of its resident set and Go heap.
// Servers in other processes are not in it; miniredis and the webhook
// subscriber, which run in this process, are.
type usage struct {
	cpu      time.Duration
	peakRSS  int64
	peakHeap int64
}

// meter measures one cell run's usage.
type meter struct {
	cpu0 time.Duration

	stop     chan struct{}
	sampling sync.WaitGroup
	peakHeap int64
}

// heapSampleEvery is how often the meter reads the heap's size.
const heapSampleEvery = 10 * time.Millisecond

// startMeter returns memory to the system, resets the resident set's
// high-water mark, and starts counting.
func startMeter() *meter {
	debug.FreeOSMemory()
	resetPeakRSS()
	m := &meter{cpu0: processCPU(), stop: make(chan struct{})}
	m.sampling.Go(m.sample)
	return m
}

// sample keeps the highest heap size seen until stopped.
func (m *meter) sample() {
	t := time.NewTicker(heapSampleEvery)
	defer t.Stop()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for {
		metrics.Read(s)
		m.peakHeap = max(m.peakHeap, int64(s[0].Value.Uint64()))
		select {
		case <-t.C:
		case <-m.stop:
			return
		}
	}
}

// finish stops the meter and returns what it measured.
func (m *meter) finish() usage {
	cpu := processCPU() - m.cpu0
	close(m.stop)
	m.sampling.Wait()
	return usage{cpu: cpu, peakRSS: peakRSS(), peakHeap: m.peakHeap}
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS sets the kernel's high-water mark of the resident set
// back to the current size (Linux 4.0 and later). Where it cannot, the
// peak is the process's since it started.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads the resident set's high-water mark, VmHWM, in bytes; 0
// where /proc is not there.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(string(fields[0]), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// cpuModel names the processor, from /proc/cpuinfo; "" where unknown.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if k, v, ok := bytes.Cut(line, []byte(":")); ok &&
			string(bytes.TrimSpace(k)) == "model name" {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}
