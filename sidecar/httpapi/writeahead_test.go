package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/audit"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

type failingSink struct{ writes atomic.Int32 }

func (f *failingSink) Write(audit.Event) error { f.writes.Add(1); return errors.New("disk full") }

// auditedRouter is the real router with the audit middleware, in front of a
// 3CX emulator whose every revoke request is checked against the sink as it
// arrives: the intent must already be there.
func auditedRouter(t *testing.T, sink audit.Sink, arrived func(path string)) (http.Handler, string) {
	t.Helper()
	emu := threecxemu.New(threecxemu.Options{})
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "RevokeToken") {
			arrived(r.URL.Path)
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(pbx.Close)
	set, err := action.LoadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	dest := upstream.DefaultConfig()
	dest.Destinations.AllowLoopback = true
	reg, err := action.NewRegistry(set, action.Env{HTTP: upstream.NewFactory(dest)}, providers.All()...)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Registry: reg, Middleware: []func(http.Handler) http.Handler{Audit(reg, sink)}})
	if err != nil {
		t.Fatal(err)
	}
	id, secret := emu.Credentials()
	conn, _ := json.Marshal(map[string]string{"baseUrl": pbx.URL, "clientId": id, "clientSecret": secret})
	return h, string(conn)
}

func TestIntentIsWrittenBeforeTheUpstreamSeesTheCall(t *testing.T) {
	sink := &memorySink{}
	var seenWithIntent, seen atomic.Int32
	h, conn := auditedRouter(t, sink, func(string) {
		seen.Add(1)
		sink.mu.Lock()
		defer sink.mu.Unlock()
		if n := len(sink.events); n > 0 && sink.events[n-1].Phase == audit.PhaseIntent {
			seenWithIntent.Add(1)
		}
	})
	req := httptest.NewRequest(http.MethodPost, "/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{"connection": `+conn+`, "input": {"id": 1}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "wa-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || seen.Load() != 1 || seenWithIntent.Load() != 1 {
		t.Fatalf("status %d, upstream saw %d revocations, %d with the intent on record: %s", rec.Code, seen.Load(), seenWithIntent.Load(), rec.Body)
	}
	if len(sink.events) != 2 {
		t.Fatalf("events %+v", sink.events)
	}
	intent, outcome := sink.events[0], sink.events[1]
	if intent.Phase != audit.PhaseIntent || intent.RequestID != "wa-1" || intent.Action != "threecx.revokeSecurityToken" ||
		intent.Targets["id"] != float64(1) || intent.Outcome != "" || intent.Status != 0 {
		t.Errorf("intent %+v", intent)
	}
	if outcome.Phase != audit.PhaseOutcome || outcome.RequestID != "wa-1" || outcome.Outcome != audit.Succeeded ||
		outcome.Status != 200 || outcome.UpstreamAttempts < 1 {
		t.Errorf("outcome %+v", outcome)
	}
	// Invalid input never reaches the write-ahead stage: an outcome only.
	req = httptest.NewRequest(http.MethodPost, "/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{"connection": `+conn+`, "input": {"id": "abc"}}`))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if len(sink.events) != 3 || sink.events[2].Phase != audit.PhaseOutcome || sink.events[2].Status != 422 {
		t.Fatalf("events %+v", sink.events)
	}
}

// A sink that cannot take the intent stops the action: the upstream never
// sees it, and the caller is told why.
func TestNoIntentNoUpstreamCall(t *testing.T) {
	sink := &failingSink{}
	var seen atomic.Int32
	h, conn := auditedRouter(t, sink, func(string) { seen.Add(1) })
	req := httptest.NewRequest(http.MethodPost, "/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{"connection": `+conn+`, "input": {"id": 1}}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), string(action.KindAuditUnavailable)) || seen.Load() != 0 {
		t.Fatalf("status %d, upstream saw %d: %s", rec.Code, seen.Load(), rec.Body)
	}
}
