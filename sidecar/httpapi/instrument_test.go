package httpapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

type recordedAction struct{ action, outcome string }

type fakeObserver struct {
	mu       sync.Mutex
	started  []string
	finished []recordedAction
}

func (f *fakeObserver) ActionStarted(id string) func(string, float64) {
	f.mu.Lock()
	f.started = append(f.started, id)
	f.mu.Unlock()
	return func(outcome string, seconds float64) {
		if seconds < 0 {
			panic("negative duration")
		}
		f.mu.Lock()
		f.finished = append(f.finished, recordedAction{id, outcome})
		f.mu.Unlock()
	}
}

func TestInstrumentReportsActionAndOutcome(t *testing.T) {
	obs := &fakeObserver{}
	r := chi.NewRouter()
	quiet := slog.New(slog.DiscardHandler)
	r.Use(AccessLog(quiet), Recoverer(quiet))
	known := func(id string) bool { return id == "demo.ok" || id == "demo.fail" || id == "demo.panic" }
	r.With(Instrument(obs, known)).Post("/actions/{actionId}", func(w http.ResponseWriter, r *http.Request) {
		switch chi.URLParam(r, "actionId") {
		case "demo.ok":
			writeJSON(w, http.StatusOK, map[string]any{"data": 1})
		case "demo.panic":
			panic("boom")
		default:
			writeProblem(w, r, action.NewProblem(action.KindUpstreamNotFound, "gone"))
		}
	})
	for _, id := range []string{"demo.ok", "demo.fail", "demo.panic", "made-up-by-a-caller"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/actions/"+id, nil))
	}
	want := []recordedAction{
		{"demo.ok", "ok"},
		{"demo.fail", "upstream-not-found"},
		{"demo.panic", "internal"},
		{"unknown", "upstream-not-found"},
	}
	if len(obs.finished) != len(want) || len(obs.started) != len(want) {
		t.Fatalf("started %v, finished %v", obs.started, obs.finished)
	}
	for i, w := range want {
		if obs.finished[i] != w {
			t.Errorf("request %d reported %+v, want %+v", i, obs.finished[i], w)
		}
	}
}

func TestMetricsRouteFollowsItsAccessPolicy(t *testing.T) {
	reg := newRegistryForRouteTest(t)
	denyAll := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeProblem(w, r, action.NewProblem(action.KindUnauthorized, "no key"))
		})
	}
	scrape := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("# metrics\n")) })
	for _, c := range []struct {
		needKey bool
		want    int
	}{{false, http.StatusOK}, {true, http.StatusUnauthorized}} {
		o := Options{Registry: reg, Metrics: scrape}
		if c.needKey {
			o.MetricsMiddleware = []func(http.Handler) http.Handler{denyAll}
		}
		h, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != c.want {
			t.Errorf("guarded=%v: GET /metrics answered %d, want %d", c.needKey, rec.Code, c.want)
		}
	}
	h, _ := New(Options{Registry: reg})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("without Metrics, GET /metrics answered %d, want 404", rec.Code)
	}
}

func newRegistryForRouteTest(t *testing.T) *action.Registry {
	t.Helper()
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}
