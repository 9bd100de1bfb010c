package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// loadClient is shared by every stage: keep-alive on, enough idle
// connections for c=500, so the bench measures requests, not handshakes.
var loadClient = &http.Client{
	Transport: &http.Transport{
		MaxIdleConns:        2048,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	},
	Timeout: 30 * time.Second,
}

// call is one prepared HTTP request that can be sent many times.
type call struct {
	method, url string
	header      http.Header
	body        []byte
	want        int
}

// send runs the call once and reads the whole answer.
func (c call) send() (time.Duration, error) {
	req, err := http.NewRequest(c.method, c.url, bytes.NewReader(c.body))
	if err != nil {
		return 0, err
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	start := time.Now()
	resp, err := loadClient.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != c.want {
		return 0, fmt.Errorf("%s %s: HTTP %d, want %d: %.300s", c.method, c.url, resp.StatusCode, c.want, body)
	}
	return d, nil
}

// Percentiles of a latency sample, in microseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

func percentiles(d []time.Duration) Percentiles {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(d)))) - 1
		if i < 0 {
			i = 0
		}
		return float64(d[i].Nanoseconds()) / 1e3
	}
	return Percentiles{P50: at(.50), P90: at(.90), P99: at(.99)}
}

// throughput runs c workers sending the call back to back for dur and
// returns completed requests per second and the number of failures.
func throughput(c call, workers int, dur time.Duration) (rps float64, failures int64, firstErr error) {
	var ok, failed atomic.Int64
	var once sync.Once
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := c.send(); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds(), failed.Load(), firstErr
}

// burst sends n copies of the call at once (all goroutines released
// together) and counts the failures.
func burst(c call, n int) (failures int, firstErr error) {
	var failed atomic.Int64
	var once sync.Once
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			if _, err := c.send(); err != nil {
				failed.Add(1)
				once.Do(func() { firstErr = err })
			}
		}()
	}
	close(gate)
	wg.Wait()
	return int(failed.Load()), firstErr
}

// scaleClient waits long enough for a list of 100k items.
var scaleClient = &http.Client{Timeout: 10 * time.Minute}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// interleaved3 sends the three calls in turn, n times each, rotating which
// goes first every triple (shifted by round) so none always meets a colder
// cache or a busier scheduler.
func interleaved3(direct, proxy, sidecar call, n, round int) (d, p, s []time.Duration, err error) {
	calls := []call{direct, proxy, sidecar}
	out := make([][]time.Duration, 3)
	for i := range out {
		out[i] = make([]time.Duration, 0, n)
	}
	for i := 0; i < n; i++ {
		for k := 0; k < 3; k++ {
			j := (i + round + k) % 3
			t, err := calls[j].send()
			if err != nil {
				return nil, nil, nil, err
			}
			out[j] = append(out[j], t)
		}
	}
	return out[0], out[1], out[2], nil
}
