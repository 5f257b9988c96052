package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Latencies summarise repeated timings.
type Latencies struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarise(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) float64 {
		i := int(p*float64(len(s))+0.5) - 1
		return ms(s[max(0, min(i, len(s)-1))])
	}
	return Latencies{N: len(s), P50: at(0.50), P99: at(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// repeat times fn until it has run n times or budget is spent, at least
// three times.
func repeat(ctx context.Context, n int, budget time.Duration, fn func() error) (Latencies, error) {
	var ds []time.Duration
	deadline := time.Now().Add(budget)
	for len(ds) < n && (len(ds) < 3 || time.Now().Before(deadline)) {
		if err := ctx.Err(); err != nil {
			return Latencies{}, err
		}
		start := time.Now()
		if err := fn(); err != nil {
			return Latencies{}, err
		}
		ds = append(ds, time.Since(start))
	}
	return summarise(ds), nil
}

// Throughput is what concurrent clients achieved.
type Throughput struct {
	Clients int       `json:"clients"`
	Count   int       `json:"count"`
	Seconds float64   `json:"seconds"`
	PerSec  float64   `json:"per_second"`
	Latency Latencies `json:"latency"`
}

// hammer runs clients goroutines, each calling fn(ctx, client, i) in a
// loop, until total calls were made or the time budget is spent; calls
// under way then finish (within 30 s, else their ctx ends). fn's
// latency is kept.
func hammer(ctx context.Context, clients, total int, budget time.Duration, fn func(ctx context.Context, client, i int) error) (Throughput, error) {
	ctx, cancel := context.WithTimeout(ctx, budget+30*time.Second)
	defer cancel()
	var issued atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	var first error
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(budget)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := 0; ctx.Err() == nil && time.Now().Before(deadline); i++ {
				if issued.Add(1) > int64(total) {
					break
				}
				t := time.Now()
				if err := fn(ctx, c, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					break
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if first != nil {
		return Throughput{}, first
	}
	return Throughput{Clients: clients, Count: len(all), Seconds: secs, PerSec: float64(len(all)) / secs, Latency: summarise(all)}, nil
}

// client calls the server under test over loopback.
type client struct {
	base string
	hc   *http.Client
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, DisableCompression: true, IdleConnTimeout: time.Minute}
	return &client{base: base, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// StatusError is an answer the bench did not expect.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// do sends a request and checks its status; the body is read in full (so
// the connection is reused) and returned.
func (c *client) do(ctx context.Context, method, path, token string, body []byte, want ...int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(want, resp.StatusCode) {
		return out, &StatusError{method, path, resp.StatusCode, string(out[:min(len(out), 300)])}
	}
	return out, nil
}
