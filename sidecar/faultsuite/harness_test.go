package faultsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/audit"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/appgateemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/nexusemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/idempotency"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"
	"github.com/tokenwarden/tokenwarden/sidecar/metrics"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// callerKey is the sidecar API key every test call presents; it is also a
// canary that must never appear in any output.
const callerKey = "CANARY-caller-key-5b1e0c"

// appgatePassword is the Appgate administrator's password, a canary too.
const appgatePassword = "CANARY-appgate-password-9f3d"

// nexusSecret is the Nexus OAuth client's secret, a canary too.
const nexusSecret = "CANARY-nexus-client-secret-77c2"

// world is one sidecar with its upstreams.
type world struct {
	t        *testing.T
	url      string
	pbx      *threecxemu.Emulator
	pbxURL   string
	pbxInj   *faults.Injector
	ag       *appgateemu.Emulator
	agURL    string
	agInj    *faults.Injector
	agClock  *testclock.Clock
	nexus    *nexusemu.Server
	nexusURL string
	nexusInj *faults.Injector
	logs     *testlog.Buffer
	audits   *testlog.Buffer
	answers  []answer // every answer the tests saw

	metrics *metrics.Metrics

	mu      sync.Mutex
	bearers map[string]bool // access tokens the upstreams were shown
	waits   []time.Duration
	retries []upstream.RetryEvent
	replays int
}

type option func(*upstream.Config)

func newWorld(t *testing.T, opts ...option) *world {
	t.Helper()
	w := &world{t: t, metrics: metrics.New(), bearers: map[string]bool{}, logs: &testlog.Buffer{}, audits: &testlog.Buffer{}, agClock: testclock.New()}
	w.pbx = threecxemu.New(threecxemu.Options{})
	w.pbxInj = faults.Wrap(w.recordBearers(w.pbx))
	pbxSrv := httptest.NewServer(w.pbxInj)
	t.Cleanup(pbxSrv.Close)
	w.pbxURL = pbxSrv.URL

	w.ag = appgateemu.New(appgateemu.Options{Now: w.agClock.Now, Password: appgatePassword})
	w.agInj = faults.Wrap(w.recordBearers(w.ag))
	agSrv := httptest.NewServer(w.agInj)
	t.Cleanup(agSrv.Close)
	w.agURL = agSrv.URL + "/admin"

	w.nexus = nexusemu.New(nexusemu.Client{ID: "MyClient", Secret: nexusSecret})
	w.nexusInj = faults.Wrap(w.recordBearers(w.nexus.Handler()))
	nexusSrv := httptest.NewServer(w.nexusInj)
	t.Cleanup(nexusSrv.Close)
	w.nexusURL = nexusSrv.URL

	cfg := upstream.Config{
		Destinations: upstream.Destinations{AllowLoopback: true},
		Retry: upstream.RetryPolicy{MaxAttempts: 4, BaseDelay: 200 * time.Millisecond, MaxDelay: 3 * time.Second, MaxElapsed: 10 * time.Second,
			Wait: func(_ context.Context, d time.Duration) error {
				w.mu.Lock()
				w.waits = append(w.waits, d)
				w.mu.Unlock()
				return nil
			}},
		Observer: &upstream.Observer{OnRetry: func(e upstream.RetryEvent) {
			w.metrics.Retry(e.Provider, e.Reason)
			w.mu.Lock()
			w.retries = append(w.retries, e)
			w.mu.Unlock()
		}, OnExchange: w.metrics.Exchange},
	}
	for _, o := range opts {
		o(&cfg)
	}
	factory, err := upstream.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := providers.Registry(action.Env{HTTP: factory})
	if err != nil {
		t.Fatal(err)
	}
	reg.CheckOutput = true
	logger := w.logs.Logger()
	// Providers that log through the default logger land in the same
	// buffer, so the canary test sees every line the process writes.
	prev := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(prev) })
	h, err := httpapi.New(httpapi.Options{Registry: reg, Logger: logger, Metrics: w.metrics.Handler(), Actions: w.metrics, Middleware: []func(http.Handler) http.Handler{
		httpapi.RequireAPIKey([]httpapi.APIKey{{ID: "suite", Key: callerKey}}),
		httpapi.NewInFlight().Middleware,
		httpapi.Audit(reg, audit.NewLines(w.audits)),
		httpapi.Idempotency(idempotency.NewMemory(time.Hour, 1000, 1<<20), func() { w.metrics.Replay(); w.mu.Lock(); w.replays++; w.mu.Unlock() }),
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// recordBearers notes every access token the sidecar presents upstream, so
// the canary test can look for them in the sidecar's output.
func (w *world) recordBearers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			w.mu.Lock()
			w.bearers[tok] = true
			w.mu.Unlock()
		}
		next.ServeHTTP(rw, r)
	})
}

func (w *world) threecxConn() map[string]any {
	id, secret := w.pbx.Credentials()
	return map[string]any{"baseUrl": w.pbxURL, "clientId": id, "clientSecret": secret}
}

func (w *world) nexusConn() map[string]any {
	return map[string]any{"dialect": "nexus", "baseUrl": w.nexusURL, "clientId": "MyClient", "clientSecret": nexusSecret, "clientAuthMethod": "client_secret_post"}
}

func (w *world) appgateConn() map[string]any {
	c := w.ag.Credentials()
	return map[string]any{"baseUrl": w.agURL, "providerName": c.ProviderName, "username": c.Username, "password": c.Password}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (a answer) problem() string {
	s, _ := a.body["type"].(string)
	return strings.TrimPrefix(s, action.ProblemBase)
}

// call posts an action through the sidecar.
func (w *world) call(id string, conn map[string]any, input any, headers ...string) answer {
	w.t.Helper()
	b, _ := json.Marshal(map[string]any{"connection": conn, "input": input})
	return w.post("/v1/actions/"+id, b, headers...)
}

func (w *world) post(path string, body []byte, headers ...string) answer {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+callerKey)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	w.mu.Lock()
	w.answers = append(w.answers, a)
	w.mu.Unlock()
	return a
}

func (w *world) recorded() ([]time.Duration, []upstream.RetryEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.waits...), append([]upstream.RetryEvent(nil), w.retries...)
}

// scrape reads /metrics as Prometheus text.
func (w *world) scrape() string {
	w.t.Helper()
	resp, err := http.Get(w.url + "/metrics")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		w.t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// auditEvents parses the outcome events written so far (each mutating call
// that reached its upstream also has an intent event before it; see
// auditPhase).
func (w *world) auditEvents() []audit.Event { return w.auditPhase(audit.PhaseOutcome) }

// auditPhase parses the audit events of one phase written so far.
func (w *world) auditPhase(phase string) []audit.Event {
	var out []audit.Event
	for _, line := range strings.Split(strings.TrimSpace(w.audits.String()), "\n") {
		if line == "" {
			continue
		}
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			w.t.Fatalf("audit line %q: %v", line, err)
		}
		if e.Phase == phase {
			out = append(out, e)
		}
	}
	return out
}

func revoked(t *testing.T, emu *threecxemu.Emulator, id int32) bool {
	t.Helper()
	raw, ok := emu.SecurityToken(id)
	if !ok {
		t.Fatalf("no security token %d", id)
	}
	var tok map[string]any
	_ = json.Unmarshal(raw, &tok)
	return tok["Revoked"] != nil
}
