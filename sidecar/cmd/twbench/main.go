// Command twbench measures what the sidecar costs beside a bare
// httputil.ReverseProxy doing the same upstream call: CPU per call,
// throughput, added latency, peak RSS, a list at scale, sign-ins in a cold
// burst and start-up. Every party runs in a process of its own: the sidecar
// (the production -tags nodemo binary), the emulators (`tokenwarden
// emulators`), the proxy (this binary in proxy mode) and the load generator
// (this process). Figures are medians of interleaved rounds, with their
// spread. `make bench` runs it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Goals from the performance issue (docs/operations.md has the table).
const (
	goalCPURatio        = 1.15     // sidecar CPU per call ÷ the proxy's, c=64
	goalThroughputRatio = 0.9      // sidecar rps ÷ proxy rps
	goalAddedRatio      = 1.2      // sidecar added p50 ÷ the proxy's added p50
	goalPeakRSS         = 40 << 20 // c=256
	goalListRSS         = 64 << 20 // returnAll over 100k items
	goalFlat            = 1.2      // CPU per item at 100k ÷ at 10k
	targetReady         = 100 * time.Millisecond
	burstSize           = 500
	readySamples        = 5
)

type options struct {
	binary    string
	emulators string
	out       string
	rounds    int
	samples   int
	warmup    int
	stage     time.Duration
	scale     int
	listOnly  bool
	env       envList
}

// envList collects repeated --sidecar-env KEY=VALUE flags (for experiments
// such as GOGC or GOMEMLIMIT).
type envList []string

func (e *envList) String() string     { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error { *e = append(*e, v); return nil }

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "bin/tokenwarden-nodemo", "the sidecar binary to measure (the production build, make build-nodemo)")
	flag.StringVar(&o.emulators, "emulators", "bin/tokenwarden", "a full tokenwarden build, run as `tokenwarden emulators`")
	flag.StringVar(&o.out, "out", "bench-results/latest.json", "where to write the JSON results")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds; figures are their medians")
	flag.IntVar(&o.samples, "samples", 500, "interleaved direct/proxy/sidecar triples per action per round")
	flag.IntVar(&o.warmup, "warmup", 100, "warm-up triples per action before sampling")
	flag.DurationVar(&o.stage, "stage", 1500*time.Millisecond, "duration of each throughput run")
	flag.IntVar(&o.scale, "scale", 100000, "items in the list-at-scale figure (the emulators are seeded with this many more)")
	flag.BoolVar(&o.listOnly, "list-only", false, "measure only the list at scale (for memory-limit experiments)")
	flag.Var(&o.env, "sidecar-env", "KEY=VALUE added to the sidecar's environment (repeatable)")
	proxyBackend := flag.String("proxy-backend", "", "internal: run as the reverse-proxy child in front of this URL")
	proxyListen := flag.String("proxy-listen", "", "internal: the reverse-proxy child's listen address")
	flag.Parse()
	if *proxyBackend != "" {
		if err := serveProxy(*proxyBackend, *proxyListen); err != nil {
			fmt.Fprintln(os.Stderr, "twbench proxy:", err)
			os.Exit(1)
		}
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := run(ctx, o, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "twbench:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
	if err := rep.write(o.out); err != nil {
		fmt.Fprintln(os.Stderr, "twbench:", err)
		os.Exit(1)
	}
	fmt.Printf("\nJSON: %s\n", o.out)
	if rep.Missed > 0 {
		fmt.Printf("%d target(s) missed\n", rep.Missed)
	}
}

// benchCall is one action as the three sides send it.
type benchCall struct {
	action     benchAction
	conn       string
	direct     call
	viaProxy   call
	viaSidecar call
}

// load is one throughput scenario.
type load struct {
	name string // short name used in target names
	call *benchCall
	c    int
	peak bool // also read the sidecar's peak RSS over its run
}

func run(ctx context.Context, o options, progress io.Writer) (*report, error) {
	started := time.Now()
	rep := &report{
		Started: started.UTC().Format(time.RFC3339), GoVersion: runtime.Version(),
		CPUs: runtime.NumCPU(), Binary: o.binary, Rounds: o.rounds, Samples: o.samples,
	}
	rep.LoadAvg[0] = loadAvg()
	st, err := os.Stat(o.binary)
	if err != nil {
		return nil, fmt.Errorf("%w (run make build-nodemo first)", err)
	}
	rep.BinaryBytes = st.Size()
	step := func(format string, args ...any) { fmt.Fprintf(progress, "twbench: "+format+"\n", args...) }
	if o.listOnly {
		if err := rep.listAtScale(o, step); err != nil {
			return nil, err
		}
		rep.Seconds = time.Since(started).Seconds()
		rep.LoadAvg[1] = loadAvg()
		rep.check()
		return rep, nil
	}

	step("emulators: %s emulators", o.emulators)
	emus, err := startEmulators(o.emulators, 0)
	if err != nil {
		return nil, err
	}
	defer emus.proc.Stop()

	step("start-up: %d cold starts", readySamples)
	for i := 0; i < readySamples; i++ {
		p, err := startSidecar(o.binary, o.env...)
		if err != nil {
			return nil, err
		}
		rep.Ready.add(p.Ready)
		p.Stop()
	}
	p, err := startSidecar(o.binary, o.env...)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	rep.Ready.add(p.Ready)
	time.Sleep(250 * time.Millisecond)
	if rep.Memory.IdleRSSBytes, err = p.status("VmRSS"); err != nil {
		return nil, err
	}

	dn, err := emus.firstDeviceDN(p.URL)
	if err != nil {
		return nil, err
	}
	dnJSON, _ := json.Marshal(dn)
	appgateRevoke := benchAction{"appgate.revokeDeviceTokens", `{"distinguishedNameFilter": ` + string(dnJSON) + `, "revocationReason": "twbench"}`}
	actions := []struct {
		conn string
		a    benchAction
	}{
		{"threecx", benchAction{"threecx.revokeSecurityToken", `{"id": 1}`}},
		{"threecx", benchAction{"threecx.listRefreshTokens", `{"top": 5}`}},
		{"threecx", benchAction{"threecx.listSecurityTokens", `{"filter": "Revoked eq null", "top": 5, "select": "Id,DisplayName,Created,Revoked"}`}},
		{"threecx", benchAction{"threecx.generateAppToken", `{"id": 32}`}},
		{"appgate", appgateRevoke},
		{"appgate", benchAction{"appgate.listOnboardedDevices", `{"range": "0-9", "orderBy": "lastSeenAt", "descending": true}`}},
		// RFC 7009 servers answer 200 for unknown tokens, so every call
		// does the same work.
		{"nexus", benchAction{"oauth.revokeToken", `{"token": "twbench-token-0123456789abcdef", "tokenTypeHint": "access_token"}`}},
		// The heaviest answer: every security token, every field.
		{"threecx", benchAction{"threecx.listSecurityTokens", `{}`}},
	}
	proxies := map[string]*proxyProcess{}
	for _, conn := range []string{"threecx", "appgate", "nexus"} {
		px, err := startProxy(emus.baseURL(conn))
		if err != nil {
			return nil, err
		}
		defer px.Stop()
		proxies[conn] = px
	}
	calls := make([]*benchCall, 0, len(actions))
	for _, x := range actions {
		direct, err := emus.direct(p.URL, x.conn, x.a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", x.a.ID, err)
		}
		viaProxy := direct
		viaProxy.url = proxies[x.conn].URL + strings.TrimPrefix(direct.url, emus.baseURL(x.conn))
		calls = append(calls, &benchCall{action: x.a, conn: x.conn, direct: direct, viaProxy: viaProxy, viaSidecar: emus.viaSidecar(p.URL, x.conn, x.a)})
	}
	latencyCalls, heaviest := calls[:7], calls[7]
	loads := []load{
		{"revoke", calls[0], 64, false},
		{"list", calls[1], 64, false},
		{"appgate revoke", calls[4], 64, false},
		{"revoke", calls[0], 256, true},
		{"heaviest (" + heaviest.action.ID + " {})", heaviest, 256, true},
	}

	for _, c := range latencyCalls {
		for i := 0; i < o.warmup; i++ {
			for _, x := range []call{c.direct, c.viaProxy, c.viaSidecar} {
				if _, err := x.send(); err != nil {
					return nil, fmt.Errorf("warm-up %s: %w", c.action.ID, err)
				}
			}
		}
	}
	rep.Latency = make([]latencyRow, len(latencyCalls))
	rep.Throughput = make([]throughputRow, len(loads))
	for round := 0; round < o.rounds; round++ {
		for i, c := range latencyCalls {
			step("round %d/%d: added latency %s (%d triples)", round+1, o.rounds, c.action.ID, o.samples)
			d, px, s, err := interleaved3(c.direct, c.viaProxy, c.viaSidecar, o.samples, round)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.action.ID, err)
			}
			rep.Latency[i].Action = c.action.ID
			rep.Latency[i].add(d, px, s)
		}
		for i, l := range loads {
			step("round %d/%d: throughput %s c=%d", round+1, o.rounds, l.call.action.ID, l.c)
			rep.Throughput[i].Name, rep.Throughput[i].Action, rep.Throughput[i].Concurrency = l.name, l.call.action.ID, l.c
			if err := rep.Throughput[i].measure(l, p, proxies[l.call.conn], o.stage, round); err != nil {
				rep.Notes = append(rep.Notes, err.Error())
			}
		}
	}
	p.Stop()

	for _, b := range []struct {
		provider string
		call     *benchCall
		action   benchAction
	}{
		{"threecx", calls[0], benchAction{"threecx.revokeSecurityToken", `{"id": 2}`}},
		{"appgate", calls[4], appgateRevoke},
	} {
		step("cold burst: %d concurrent %s on a fresh sidecar", burstSize, b.action.ID)
		fresh, err := startSidecar(o.binary, o.env...)
		if err != nil {
			return nil, err
		}
		rep.Ready.add(fresh.Ready)
		before := emus.signIns(b.provider)
		failures, firstErr := burst(emus.viaSidecar(fresh.URL, b.call.conn, b.action), burstSize)
		row := burstRow{Provider: b.provider, Action: b.action.ID, Requests: burstSize, Failures: failures, SignIns: emus.signIns(b.provider) - before}
		row.SignInsByMetrics, _ = scrapeSignIns(fresh.URL, b.provider)
		if firstErr != nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("burst %s: %v", b.provider, firstErr))
		}
		rep.Bursts = append(rep.Bursts, row)
		fresh.Stop()
	}
	emus.proc.Stop()

	if o.scale > 0 {
		if err := rep.listAtScale(o, step); err != nil {
			rep.Notes = append(rep.Notes, "list at scale: "+err.Error())
		}
	}

	rep.Seconds = time.Since(started).Seconds()
	rep.LoadAvg[1] = loadAvg()
	rep.check()
	return rep, nil
}

// scrapeSignIns sums tokenwarden_upstream_signins_total for a provider from
// the sidecar's own /metrics, a cross-check of the emulator's count.
func scrapeSignIns(sidecarURL, provider string) (float64, error) {
	resp, err := loadClient.Get(sidecarURL + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var sum float64
	prefix := `tokenwarden_upstream_signins_total{provider="` + provider + `"`
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, prefix) {
			var v float64
			if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err == nil {
				sum += v
			}
		}
	}
	return sum, nil
}

// loadAvg returns the 1-minute load average, or "?" off Linux.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func mib(b float64) float64 { return b / (1 << 20) }

// spread is a figure over the rounds: its median, least and greatest.
type spread struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Rounds []float64 `json:"rounds"`
}

func (s *spread) add(v float64) {
	s.Rounds = append(s.Rounds, v)
	sorted := append([]float64(nil), s.Rounds...)
	sort.Float64s(sorted)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	n := len(sorted)
	if n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
}

func (s spread) String() string {
	if len(s.Rounds) < 2 {
		return fmt.Sprintf("%.2f", s.Median)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", s.Median, s.Min, s.Max)
}

func (r *report) write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
