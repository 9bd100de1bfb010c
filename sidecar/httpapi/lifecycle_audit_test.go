package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/audit"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/sidecartest"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
)

type events struct {
	mu  sync.Mutex
	all []audit.Event
}

func (e *events) Write(ev audit.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
	return nil
}

// Dry runs and verifications are audited like any mutating call: the event
// names the option among its targets, and a revocation that failed
// verification is a failed event with its own problem type.
func TestDryRunsAndVerificationsAreAudited(t *testing.T) {
	emu := threecxemu.New(threecxemu.Options{Now: testclock.New().Now})
	var lying atomic.Bool
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lying.Load() && strings.HasSuffix(r.URL.Path, "/Pbx.RevokeToken") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(pbx.Close)
	reg := sidecartest.Registry(t, nil)
	sink := &events{}
	srv := sidecartest.Serve(t, httpapi.Options{Registry: reg, Middleware: []func(http.Handler) http.Handler{httpapi.Audit(reg, sink)}})
	id, key := emu.Credentials()
	conn := map[string]any{"baseUrl": pbx.URL, "clientId": id, "clientSecret": key}
	call := func(input map[string]any) int {
		b, _ := json.Marshal(map[string]any{"connection": conn, "input": input})
		resp, err := http.Post(srv.URL+"/v1/actions/threecx.revokeSecurityToken", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if call(map[string]any{"id": 3, "dryRun": true}) != 200 || call(map[string]any{"id": 3, "verify": true}) != 200 {
		t.Fatal("dry run or verified revocation failed")
	}
	lying.Store(true)
	if got := call(map[string]any{"id": 4, "verify": true}); got != http.StatusBadGateway {
		t.Fatalf("unverified revocation answered %d", got)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.all) != 3 {
		t.Fatalf("%d events, want 3: %+v", len(sink.all), sink.all)
	}
	dry, ok, bad := sink.all[0], sink.all[1], sink.all[2]
	if dry.Targets["dryRun"] != true || dry.Outcome != "succeeded" {
		t.Errorf("dry run event %+v", dry)
	}
	if ok.Targets["verify"] != true || ok.Outcome != "succeeded" {
		t.Errorf("verified revocation event %+v", ok)
	}
	if bad.Outcome != "failed" || bad.Problem != action.ProblemBase+string(action.KindUnverified) {
		t.Errorf("unverified revocation event %+v", bad)
	}
}
