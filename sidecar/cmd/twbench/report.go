package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"
)

type report struct {
	Started     string          `json:"started"`
	Seconds     float64         `json:"seconds"`
	GoVersion   string          `json:"goVersion"`
	CPUs        int             `json:"cpus"`
	Binary      string          `json:"binary"`
	BinaryBytes int64           `json:"binaryBytes"`
	Rounds      int             `json:"rounds"`
	Samples     int             `json:"samplesPerActionPerRound"`
	Latency     []latencyRow    `json:"addedLatency"`
	Throughput  []throughputRow `json:"throughput"`
	List        []listRow       `json:"listAtScale"`
	Bursts      []burstRow      `json:"coldBursts"`
	Memory      struct {
		IdleRSSBytes int64 `json:"idleRssBytes"`
	} `json:"memory"`
	Ready readyTimes `json:"startToReady"`
	// LoadAvg is /proc/loadavg at the start and the end: other work on the
	// same CPUs slows both sides, which is why targets are ratios.
	LoadAvg [2]string `json:"loadAvg"`
	Targets []target  `json:"targets"`
	Missed  int       `json:"missed"`
	Notes   []string  `json:"notes,omitempty"`
}

// target is one goal of the performance issue with this run's figure.
type target struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target string  `json:"target"`
	Pass   bool    `json:"pass"`
}

// latencyRow is one action's latency at c=1, per round: the sidecar's and
// the proxy's added p50 over the direct call, and their ratio.
type latencyRow struct {
	Action       string      `json:"action"`
	Direct       Percentiles `json:"directMicros"`
	Proxy        Percentiles `json:"proxyMicros"`
	Sidecar      Percentiles `json:"sidecarMicros"`
	SidecarAdded spread      `json:"sidecarAddedP50Micros"`
	ProxyAdded   spread      `json:"proxyAddedP50Micros"`
	Ratio        spread      `json:"addedP50Ratio"`
}

func (l *latencyRow) add(direct, proxy, sidecar []time.Duration) {
	l.Direct, l.Proxy, l.Sidecar = percentiles(direct), percentiles(proxy), percentiles(sidecar)
	s, p := l.Sidecar.P50-l.Direct.P50, l.Proxy.P50-l.Direct.P50
	l.SidecarAdded.add(s)
	l.ProxyAdded.add(p)
	l.Ratio.add(s / max(p, 1))
}

// throughputRow is one load scenario: requests per second and CPU per
// request of both sides, and the sidecar's peak RSS over its runs.
type throughputRow struct {
	Name            string  `json:"name"`
	Action          string  `json:"action"`
	Concurrency     int     `json:"concurrency"`
	ProxyRPS        spread  `json:"proxyRps"`
	SidecarRPS      spread  `json:"sidecarRps"`
	Ratio           spread  `json:"throughputRatio"`
	ProxyCPU        spread  `json:"proxyCpuMicrosPerCall"`
	SidecarCPU      spread  `json:"sidecarCpuMicrosPerCall"`
	CPURatio        spread  `json:"cpuRatio"`
	PeakRSS         *spread `json:"sidecarPeakRssMiB,omitempty"`
	ProxyFailures   int64   `json:"proxyFailures"`
	SidecarFailures int64   `json:"sidecarFailures"`
}

// measure runs the scenario once on each side (which goes first alternates
// by round) after an uncounted warm-up.
func (t *throughputRow) measure(l load, sidecar *sidecarProcess, proxy *proxyProcess, stage time.Duration, round int) error {
	_, _, _ = throughput(l.call.viaProxy, l.c, stage/4)
	_, _, _ = throughput(l.call.viaSidecar, l.c, stage/4)
	type side struct {
		c        call
		p        *process
		rps, cpu *spread
		failed   *int64
		peak     bool
	}
	sides := []side{
		{l.call.viaProxy, proxy.process, &t.ProxyRPS, &t.ProxyCPU, &t.ProxyFailures, false},
		{l.call.viaSidecar, sidecar.process, &t.SidecarRPS, &t.SidecarCPU, &t.SidecarFailures, l.peak},
	}
	if round%2 == 1 {
		sides[0], sides[1] = sides[1], sides[0]
	}
	var firstErr error
	for _, s := range sides {
		if s.peak {
			sidecar.resetPeak()
		}
		before := s.p.cpu()
		start := time.Now()
		rps, failed, err := throughput(s.c, l.c, stage)
		used := s.p.cpu() - before
		calls := rps * time.Since(start).Seconds()
		s.rps.add(rps)
		s.cpu.add(float64(used.Microseconds()) / max(calls, 1))
		*s.failed += failed
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s c=%d: %v", l.call.action.ID, l.c, err)
		}
		if s.peak {
			hwm, _ := sidecar.status("VmHWM")
			if t.PeakRSS == nil {
				t.PeakRSS = &spread{}
			}
			t.PeakRSS.add(mib(float64(hwm)))
		}
	}
	t.Ratio.add(t.SidecarRPS.Rounds[len(t.SidecarRPS.Rounds)-1] / max(t.ProxyRPS.Rounds[len(t.ProxyRPS.Rounds)-1], 1))
	t.CPURatio.add(t.SidecarCPU.Rounds[len(t.SidecarCPU.Rounds)-1] / max(t.ProxyCPU.Rounds[len(t.ProxyCPU.Rounds)-1], 1e-9))
	return firstErr
}

// listRow is returnAll over n refresh tokens on one fresh sidecar.
type listRow struct {
	Items      int     `json:"items"`
	PeakRSS    spread  `json:"sidecarPeakRssMiB"`
	CPUPerItem spread  `json:"sidecarCpuMicrosPerItem"`
	Seconds    spread  `json:"seconds"`
	AnswerMiB  float64 `json:"answerMiB"`
}

// listAtScale reads n = scale/10 and n = scale refresh tokens with
// returnAll from an emulator seeded with scale more, each size on a fresh
// sidecar per round, and keeps the sidecar's peak RSS and CPU per item.
func (r *report) listAtScale(o options, step func(string, ...any)) error {
	step("list at scale: emulators seeded with %d more tokens", o.scale)
	emus, err := startEmulators(o.emulators, o.scale)
	if err != nil {
		return err
	}
	defer emus.proc.Stop()
	sizes := []int{o.scale / 10, o.scale}
	r.List = make([]listRow, len(sizes))
	for round := 0; round < o.rounds; round++ {
		for i, n := range sizes {
			step("round %d/%d: returnAll over %d refresh tokens", round+1, o.rounds, n)
			p, err := startSidecar(o.binary, o.env...)
			if err != nil {
				return err
			}
			c := emus.viaSidecar(p.URL, "threecx", benchAction{"threecx.listRefreshTokens", fmt.Sprintf(`{"returnAll": true, "limit": %d}`, n)})
			// Sign in first, so the figure is the list alone.
			if _, err := emus.viaSidecar(p.URL, "threecx", benchAction{"threecx.listRefreshTokens", `{"top": 1}`}).send(); err != nil {
				p.Stop()
				return err
			}
			p.resetPeak()
			before := p.cpu()
			start := time.Now()
			size, err := c.sendCounting()
			elapsed := time.Since(start)
			used := p.cpu() - before
			hwm, _ := p.status("VmHWM")
			p.Stop()
			if err != nil {
				return err
			}
			r.List[i].Items = n
			r.List[i].AnswerMiB = mib(float64(size))
			r.List[i].PeakRSS.add(mib(float64(hwm)))
			r.List[i].CPUPerItem.add(float64(used.Microseconds()) / float64(n))
			r.List[i].Seconds.add(elapsed.Seconds())
		}
	}
	return nil
}

type burstRow struct {
	Provider         string  `json:"provider"`
	Action           string  `json:"action"`
	Requests         int     `json:"requests"`
	Failures         int     `json:"failures"`
	SignIns          int64   `json:"signIns"`
	SignInsByMetrics float64 `json:"signInsByMetrics"`
}

type readyTimes struct {
	SamplesMillis []float64 `json:"samplesMillis"`
	MedianMillis  float64   `json:"medianMillis"`
	MaxMillis     float64   `json:"maxMillis"`
}

func (r *readyTimes) add(d time.Duration) {
	r.SamplesMillis = append(r.SamplesMillis, float64(d.Microseconds())/1e3)
	s := append([]float64(nil), r.SamplesMillis...)
	sort.Float64s(s)
	r.MedianMillis, r.MaxMillis = s[len(s)/2], s[len(s)-1]
}

func (r *report) check() {
	atMost := func(name string, v float64, unit string, goal float64) {
		r.Targets = append(r.Targets, target{name, v, unit, fmt.Sprintf("<= %g", goal), v <= goal})
	}
	atLeast := func(name string, v float64, unit string, goal float64) {
		r.Targets = append(r.Targets, target{name, v, unit, fmt.Sprintf(">= %g", goal), v >= goal})
	}
	for _, t := range r.Throughput {
		if t.Concurrency == 64 {
			atMost(fmt.Sprintf("CPU per call vs bare proxy, c=64, %s", t.Name), t.CPURatio.Median, "x", goalCPURatio)
		}
	}
	for _, t := range r.Throughput {
		switch {
		case t.Concurrency == 64 && t.Name != "appgate revoke", t.Concurrency == 256 && t.Name == "revoke":
			ratio := t.Ratio.Median
			if t.SidecarFailures > 0 {
				ratio = 0
			}
			atLeast(fmt.Sprintf("throughput vs bare proxy, c=%d, %s", t.Concurrency, t.Name), ratio, "x", goalThroughputRatio)
		}
	}
	for _, l := range r.Latency {
		atMost("added p50 vs the bare proxy's added p50, "+l.Action, l.Ratio.Median, "x", goalAddedRatio)
	}
	for _, t := range r.Throughput {
		if t.PeakRSS != nil {
			atMost(fmt.Sprintf("peak RSS, c=%d, %s", t.Concurrency, t.Name), t.PeakRSS.Median, "MiB", mib(goalPeakRSS))
		}
	}
	if n := len(r.List); n > 0 {
		big, small := r.List[n-1], r.List[0]
		atMost(fmt.Sprintf("returnAll over %d refresh tokens: sidecar peak RSS", big.Items), big.PeakRSS.Median, "MiB", mib(goalListRSS))
		// CPU time comes in 10 ms ticks: a list too short to register one
		// has no per-item figure, and counts as a miss rather than a pass.
		flat := 0.0
		if small.CPUPerItem.Median > 0 {
			flat = big.CPUPerItem.Median / small.CPUPerItem.Median
		} else {
			r.Notes = append(r.Notes, fmt.Sprintf("returnAll over %d used less CPU than the clock shows; use a larger --scale", small.Items))
			flat = 1e9
		}
		atMost(fmt.Sprintf("returnAll: sidecar CPU per item at %d vs at %d", big.Items, small.Items), flat, "x", goalFlat)
	}
	for _, b := range r.Bursts {
		r.Targets = append(r.Targets, target{"sign-ins in a cold burst of " + fmt.Sprint(b.Requests) + ", " + b.Provider, float64(b.SignIns), "sign-ins", "== 1, none failed", b.SignIns == 1 && b.Failures == 0})
	}
	atMost("start to /readyz (median of starts)", r.Ready.MedianMillis, "ms", float64(targetReady.Milliseconds()))
	for _, t := range r.Targets {
		if !t.Pass {
			r.Missed++
		}
	}
}

func passMark(ok bool) string {
	if ok {
		return "pass"
	}
	return "MISS"
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nTokenwarden benchmark, %s, %s, %d CPUs, %.0f s, load average %s → %s; medians of %d rounds (min–max)\n",
		r.Started, r.GoVersion, r.CPUs, r.Seconds, r.LoadAvg[0], r.LoadAvg[1], r.Rounds)
	fmt.Fprintf(w, "\n1. Added p50 at c=1 (µs over the direct call; %d interleaved direct/proxy/sidecar triples per action per round)\n", r.Samples)
	fmt.Fprintf(w, "%-30s %22s %22s %22s\n", "action", "sidecar added", "proxy added", "ratio")
	for _, l := range r.Latency {
		fmt.Fprintf(w, "%-30s %22s %22s %22s\n", l.Action, l.SidecarAdded, l.ProxyAdded, l.Ratio)
	}
	fmt.Fprintf(w, "\n2. Load (proxy = httputil.ReverseProxy in its own process, same upstream call)\n")
	fmt.Fprintf(w, "%-44s %4s %24s %20s %20s %18s\n", "scenario", "c", "sidecar rps", "rps ratio", "CPU/call ratio", "peak RSS MiB")
	for _, t := range r.Throughput {
		peak := ""
		if t.PeakRSS != nil {
			peak = t.PeakRSS.String()
		}
		fmt.Fprintf(w, "%-44s %4d %24s %20s %20s %18s\n", t.Name, t.Concurrency, t.SidecarRPS, t.Ratio, t.CPURatio, peak)
	}
	if len(r.List) > 0 {
		fmt.Fprintf(w, "\n3. returnAll over refresh tokens (fresh sidecar each)\n")
		fmt.Fprintf(w, "%8s %10s %22s %22s %18s\n", "items", "answer MiB", "peak RSS MiB", "CPU µs/item", "seconds")
		for _, l := range r.List {
			fmt.Fprintf(w, "%8d %10.1f %22s %22s %18s\n", l.Items, l.AnswerMiB, l.PeakRSS, l.CPUPerItem, l.Seconds)
		}
	}
	fmt.Fprintf(w, "\n4. Cold burst (%d concurrent actions on a freshly started sidecar)\n", burstSize)
	for _, b := range r.Bursts {
		fmt.Fprintf(w, "%-10s %-30s failed %d, sign-ins %d (by /metrics %.0f)\n", b.Provider, b.Action, b.Failures, b.SignIns, b.SignInsByMetrics)
	}
	fmt.Fprintf(w, "\n5. Process: idle RSS %.1f MiB, start to /readyz median %.1f ms (max %.1f, %d starts), binary %.1f MiB\n",
		mib(float64(r.Memory.IdleRSSBytes)), r.Ready.MedianMillis, r.Ready.MaxMillis, len(r.Ready.SamplesMillis), mib(float64(r.BinaryBytes)))
	fmt.Fprintf(w, "\nTargets\n")
	for _, t := range r.Targets {
		fmt.Fprintf(w, "  %-4s %-75s %10.2f %-8s %s\n", passMark(t.Pass), t.Name, t.Value, t.Unit, t.Target)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// sendCounting runs the call once and returns the answer's size.
func (c call) sendCounting() (int64, error) {
	req, err := http.NewRequest(c.method, c.url, bytesReader(c.body))
	if err != nil {
		return 0, err
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	resp, err := scaleClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != c.want {
		err = fmt.Errorf("%s: HTTP %d", c.url, resp.StatusCode)
	}
	return n, err
}
