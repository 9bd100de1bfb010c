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
// names the option among its targets, and its outcome is read from the
// answer: dry-run, verified, or unverified for a revocation that failed
// verification (with its own problem type); a plain revocation succeeded.
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
	if call(map[string]any{"id": 3, "dryRun": true}) != 200 || call(map[string]any{"id": 3, "verify": true}) != 200 || call(map[string]any{"id": 5}) != 200 {
		t.Fatal("dry run, verified or plain revocation failed")
	}
	lying.Store(true)
	if got := call(map[string]any{"id": 4, "verify": true}); got != http.StatusBadGateway {
		t.Fatalf("unverified revocation answered %d", got)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	// Each call wrote its intent before going upstream, then its outcome.
	var outcomes []audit.Event
	for i, e := range sink.all {
		if want := []string{audit.PhaseIntent, audit.PhaseOutcome}[i%2]; e.Phase != want {
			t.Fatalf("event %d is %q, want %q: %+v", i, e.Phase, want, sink.all)
		}
		if e.Phase == audit.PhaseOutcome {
			outcomes = append(outcomes, e)
		}
	}
	if len(outcomes) != 4 {
		t.Fatalf("%d outcome events, want 4: %+v", len(outcomes), sink.all)
	}
	dry, ok, plain, bad := outcomes[0], outcomes[1], outcomes[2], outcomes[3]
	if dry.Targets["dryRun"] != true || dry.Outcome != audit.DryRun || dry.Verification != "" {
		t.Errorf("dry run event %+v", dry)
	}
	if ok.Targets["verify"] != true || ok.Outcome != audit.Verified || ok.Verification != action.VerificationVerified {
		t.Errorf("verified revocation event %+v", ok)
	}
	if plain.Outcome != audit.Succeeded || plain.Verification != "" {
		t.Errorf("plain revocation event %+v", plain)
	}
	if bad.Outcome != audit.Unverified || bad.Problem != action.ProblemBase+string(action.KindUnverified) {
		t.Errorf("unverified revocation event %+v", bad)
	}
}
