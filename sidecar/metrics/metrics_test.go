package metrics_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tokenwarden/tokenwarden/sidecar/demo"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/sidecartest"
	"github.com/tokenwarden/tokenwarden/sidecar/metrics"
)

// sidecar runs the real router with metrics wired as serve wires them,
// against the demo emulators.
func sidecar(t *testing.T) (*httptest.Server, *demo.Upstreams, *metrics.Metrics) {
	t.Helper()
	up, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close(context.Background()) })
	m := metrics.New()
	reg := sidecartest.MeteredRegistry(t, m, nil)
	srv := sidecartest.Serve(t, httpapi.Options{Registry: reg, Actions: m, Metrics: m.Handler()})
	return srv, up, m
}

func invoke(t *testing.T, base string, up *demo.Upstreams, id, input string) (int, string) {
	t.Helper()
	provider, _, _ := strings.Cut(id, ".")
	conn, _ := json.Marshal(up.Connections[provider])
	resp, err := http.Post(base+"/v1/actions/"+id, "application/json",
		strings.NewReader(`{"connection":`+string(conn)+`,"input":`+input+`}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type scrape struct {
	text     string
	families map[string]*dto.MetricFamily
}

func scrapeMetrics(t *testing.T, base string) scrape {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	b, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("scrape is not Prometheus text: %v", err)
	}
	return scrape{text: string(b), families: fams}
}

// value returns the sample of family name whose labels are exactly labels
// (a histogram's sample count for histograms); -1 when there is none.
func (s scrape) value(name string, labels map[string]string) float64 {
	fam, ok := s.families[name]
	if !ok {
		return -1
	}
next:
	for _, m := range fam.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func TestMetricsMoveWithRealActions(t *testing.T) {
	srv, up, _ := sidecar(t)
	before := scrapeMetrics(t, srv.URL)
	if v := before.value("tokenwarden_upstream_signins_total", map[string]string{"provider": "threecx", "result": "ok"}); v > 0 {
		t.Fatalf("sign-ins before any action: %v", v)
	}

	steps := []struct {
		id, input string
		status    int
	}{
		{"threecx.listRefreshTokens", `{"top": 2}`, 200},
		{"threecx.listRefreshTokens", `{"top": 3}`, 200},
		{"threecx.revokeSecurityToken", `{"id": 1}`, 200},
		{"threecx.revokeSecurityToken", `{"id": 987654}`, 404},
		{"threecx.revokeSecurityToken", `{"id": "abc"}`, 422},
		{"threecx.generateAppToken", `{"id": 32}`, 200},
		{"appgate.listOnboardedDevices", `{"range": "0-5"}`, 200},
		{"appgate.listOnboardedDevices", `{"range": "5-10"}`, 200},
	}
	var generated string
	for _, s := range steps {
		status, body := invoke(t, srv.URL, up, s.id, s.input)
		if status != s.status {
			t.Fatalf("%s %s: %d %s", s.id, s.input, status, body)
		}
		if s.id == "threecx.generateAppToken" {
			var res struct {
				Data struct {
					AppToken string `json:"appToken"`
				} `json:"data"`
			}
			_ = json.Unmarshal([]byte(body), &res)
			generated = res.Data.AppToken
		}
	}
	if status, _ := invoke(t, srv.URL, up, "threecx.noSuchThing", `{}`); status != 404 {
		t.Fatalf("unknown action answered %d", status)
	}

	after := scrapeMetrics(t, srv.URL)
	counts := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"tokenwarden_action_requests_total", map[string]string{"action": "threecx.listRefreshTokens", "outcome": "ok"}, 2},
		{"tokenwarden_action_requests_total", map[string]string{"action": "threecx.revokeSecurityToken", "outcome": "ok"}, 1},
		{"tokenwarden_action_requests_total", map[string]string{"action": "threecx.revokeSecurityToken", "outcome": "upstream-not-found"}, 1},
		{"tokenwarden_action_requests_total", map[string]string{"action": "threecx.revokeSecurityToken", "outcome": "invalid-input"}, 1},
		{"tokenwarden_action_requests_total", map[string]string{"action": "unknown", "outcome": "unknown-action"}, 1},
		{"tokenwarden_action_duration_seconds", map[string]string{"action": "threecx.listRefreshTokens", "outcome": "ok"}, 2},
		{"tokenwarden_actions_in_flight", map[string]string{"action": "threecx.listRefreshTokens"}, 0},
		// One shared sign-in served every call.
		{"tokenwarden_upstream_signins_total", map[string]string{"provider": "threecx", "result": "ok"}, 1},
		{"tokenwarden_upstream_requests_total", map[string]string{"provider": "threecx", "operation": "signin", "status": "200"}, 1},
		{"tokenwarden_upstream_requests_total", map[string]string{"provider": "threecx", "operation": "call", "status": "200"}, 3},
		{"tokenwarden_upstream_requests_total", map[string]string{"provider": "threecx", "operation": "call", "status": "204"}, 1},
		{"tokenwarden_upstream_requests_total", map[string]string{"provider": "threecx", "operation": "call", "status": "404"}, 1},
		{"tokenwarden_upstream_duration_seconds", map[string]string{"provider": "threecx", "operation": "call"}, 5},
		{"tokenwarden_action_requests_total", map[string]string{"action": "appgate.listOnboardedDevices", "outcome": "ok"}, 2},
		{"tokenwarden_upstream_signins_total", map[string]string{"provider": "appgate", "result": "ok"}, 1},
	}
	for _, c := range counts {
		if got := after.value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if after.value("go_goroutines", map[string]string{}) <= 0 {
		t.Error("runtime metrics missing")
	}

	_, secret := up.ThreeCX.Credentials()
	conn := up.Connections["threecx"].(map[string]any)
	for what, v := range map[string]string{"the client secret used": conn["clientSecret"].(string), "the new API key": secret, "the generated token": generated} {
		if v == "" {
			t.Fatalf("%s is empty; the test would prove nothing", what)
		}
		if strings.Contains(after.text, v) {
			t.Errorf("/metrics contains %s", what)
		}
	}
}

func TestRetriesAndReplaysAreCounted(t *testing.T) {
	srv, _, m := sidecar(t)
	m.Retry("threecx", "503")
	m.Retry("threecx", "503")
	m.Replay()
	s := scrapeMetrics(t, srv.URL)
	if v := s.value("tokenwarden_upstream_retries_total", map[string]string{"provider": "threecx", "reason": "503"}); v != 2 {
		t.Errorf("retries %v, want 2", v)
	}
	if v := s.value("tokenwarden_idempotent_replays_total", map[string]string{}); v != 1 {
		t.Errorf("replays %v, want 1", v)
	}
}
