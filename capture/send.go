package capture

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Result is how the endpoint answered one delivery.
type Result struct {
	// Line is the delivery's line in the capture.
	Line int
	// Status is the HTTP status; 0 when no answer came.
	Status int
	// Err says why no answer came.
	Err error
}

// skipped are recorded headers that describe the recorded connection, not
// the delivery; the client sets its own.
var skipped = map[string]bool{
	"Content-Length": true, "Host": true, "Connection": true,
	"Transfer-Encoding": true, "Accept-Encoding": true,
}

// Send posts every delivery to url at its recorded time divided by speed
// (2 sends twice as fast), each on its own, so that copies recorded close
// together overlap as they did. It returns when every delivery has its
// answer, or ctx ends; results follow the order of ds.
func Send(ctx context.Context, client *http.Client, url string, ds []Delivery,
	speed float64) ([]Result, error) {
	if speed <= 0 {
		return nil, fmt.Errorf("send capture: speed %v must be positive", speed)
	}
	results := make([]Result, len(ds))
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range ds {
		results[i].Line = d.Line
		wg.Go(func() {
			due := start.Add(time.Duration(float64(d.At) / speed))
			if err := sleepUntil(ctx, due); err != nil {
				results[i].Err = err
				return
			}
			results[i].Status, results[i].Err = post(ctx, client, url, d)
		})
	}
	wg.Wait()
	return results, ctx.Err()
}

// post sends one delivery with its recorded headers.
func post(ctx context.Context, client *http.Client, url string, d Delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url,
		bytes.NewReader(d.Body))
	if err != nil {
		return 0, fmt.Errorf("post line %d: %w", d.Line, err)
	}
	for k, v := range d.Header {
		if !skipped[http.CanonicalHeaderKey(strings.TrimSpace(k))] {
			req.Header.Set(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post line %d: %w", d.Line, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
