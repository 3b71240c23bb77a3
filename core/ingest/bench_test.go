package ingest_test

import (
	"bytes"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dedupsim/dedupsim/core/ingest"
	"github.com/dedupsim/dedupsim/core/meta"
)

// BenchmarkIngest posts signed one-message deliveries over loopback HTTP
// from several clients at once, each answered after its job commits. It
// reports the throughput in requests per second and the 99th percentile
// of the request latency.
func BenchmarkIngest(b *testing.B) {
	e := newEnv(b, ingest.Config{})
	body := payload(b, "01-single-text.json")
	sig := meta.Sign(secret, body)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(client.CloseIdleConnections)

	var (
		mu        sync.Mutex
		latencies []time.Duration
	)
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			code, err := postWith(b, client, e.url, body, sig)
			mine = append(mine, time.Since(t0))
			if err != nil || code != http.StatusOK {
				b.Errorf("answer %d: %v", code, err)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()

	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
	b.ReportMetric(percentile(latencies, 0.99).Seconds()*1000, "p99-ms")
}

// postWith posts body with signature sig through client. It reports
// errors rather than failing: it runs on the benchmark's own goroutines.
func postWith(tb testing.TB, client *http.Client, url string, body []byte,
	sig string) (int, error) {
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, url,
		bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set(meta.SignatureHeader, sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, resp.Body.Close()
}

// percentile returns the p-th quantile of ds, 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}
