package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/audit"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

type memorySink struct {
	mu     sync.Mutex
	events []audit.Event
}

func (m *memorySink) Write(e audit.Event) error {
	m.mu.Lock()
	m.events = append(m.events, e)
	m.mu.Unlock()
	return nil
}

func contextWithCaller(r *http.Request, id string) context.Context {
	return context.WithValue(r.Context(), callerKey{}, id)
}

func TestAuditRecordsMutatingActionsOnly(t *testing.T) {
	set, err := action.LoadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := action.NewRegistry(set, action.Env{}, providers.All()...)
	if err != nil {
		t.Fatal(err)
	}
	sink := &memorySink{}
	h := RequestID(Audit(reg, sink)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// As the invoke handler does: parse the envelope and share it.
		if body, err := readBody(r); err == nil {
			if env, err := action.ParseEnvelope(body); err == nil {
				shareEnvelope(r.Context(), env)
			}
		}
		if strings.Contains(r.URL.Path, "generate") {
			writeProblem(w, r, action.NewProblem(action.KindUpstreamNotFound, "no such principal"))
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}})
	})))
	send := func(path, body string) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set(ActorHeader, "workflow 12 / run 7")
		req = req.WithContext(contextWithCaller(req, "n8n-prod"))
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	send("/v1/actions/threecx.revokeSecurityToken", `{"profile":"pbx","input":{"id":42}}`)
	send("/v1/actions/threecx.listSecurityTokens", `{"profile":"pbx","input":{}}`)
	send("/v1/actions/threecx.generateAppToken", `{"connection":{"clientSecret":"canary-secret"},"input":{"id":7,"someToken":"canary-token"}}`)
	if len(sink.events) != 2 {
		t.Fatalf("events %+v", sink.events)
	}
	ok, failed := sink.events[0], sink.events[1]
	if ok.Action != "threecx.revokeSecurityToken" || ok.Outcome != "succeeded" || ok.Caller != "n8n-prod" || ok.Profile != "pbx" ||
		ok.Actor != "workflow 12 / run 7" || ok.Targets["id"] != float64(42) || ok.RequestID == "" {
		t.Errorf("success event %+v", ok)
	}
	if failed.Outcome != "failed" || failed.Status != 404 || failed.Problem != action.ProblemBase+"upstream-not-found" {
		t.Errorf("failure event %+v", failed)
	}
	all, _ := json.Marshal(sink.events)
	if strings.Contains(string(all), "canary") || !strings.Contains(string(all), `"someToken":"sha256:`) {
		t.Errorf("events leak or lack the fingerprint: %s", all)
	}
}

// Through the real router: the invoke handler hands the envelope it parsed
// to the audit, which names the targets without parsing the body again.
func TestAuditThroughTheRouterNamesTargets(t *testing.T) {
	set, err := action.LoadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := action.NewRegistry(set, action.Env{}, providers.All()...)
	if err != nil {
		t.Fatal(err)
	}
	sink := &memorySink{}
	h, err := New(Options{Registry: reg, Middleware: []func(http.Handler) http.Handler{Audit(reg, sink)}})
	if err != nil {
		t.Fatal(err)
	}
	// The profile is unknown, so the action fails validation and nothing
	// is sent upstream; the attempt is still audited with its targets.
	req := httptest.NewRequest(http.MethodPost, "/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{"profile":"nosuch","input":{"id":42}}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnprocessableEntity || len(sink.events) != 1 {
		t.Fatalf("status %d, events %+v", rec.Code, sink.events)
	}
	e := sink.events[0]
	if e.Outcome != "failed" || e.Profile != "nosuch" || e.Targets["id"] != float64(42) {
		t.Fatalf("event %+v", e)
	}
}
