package faultsuite

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
)

// A webhook sender retries "offboard": the second call must neither do the
// work again nor fail.
func TestRetriedWebhookIsAnsweredFromTheStore(t *testing.T) {
	w := newWorld(t)
	body, _ := json.Marshal(map[string]any{"connection": w.appgateConn(), "input": aliceLaptop})
	first := w.post("/v1/actions/appgate.revokeDeviceTokens", body, "Idempotency-Key", "offboard-alice-1")
	second := w.post("/v1/actions/appgate.revokeDeviceTokens", body, "Idempotency-Key", "offboard-alice-1")
	if first.status != 200 || second.status != 200 || first.raw != second.raw || second.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("first %d %s\nsecond %d %s %v", first.status, first.raw, second.status, second.raw, second.header)
	}
	if n := len(w.ag.Revocations()); n != 1 {
		t.Fatalf("revoked %d times", n)
	}
	other, _ := json.Marshal(map[string]any{"connection": w.appgateConn(), "input": map[string]any{"distinguishedNameFilter": "CN=bob,OU=ldap"}})
	if a := w.post("/v1/actions/appgate.revokeDeviceTokens", other, "Idempotency-Key", "offboard-alice-1"); a.status != 422 || a.problem() != "idempotency-key-reused" {
		t.Fatalf("other body: %d %s", a.status, a.raw)
	}
	ev := w.auditEvents()
	if len(ev) != 3 || ev[0].Outcome != "succeeded" || ev[1].Outcome != "replayed" || ev[2].Outcome != "failed" {
		t.Fatalf("audit %+v", ev)
	}
}

func TestConcurrentDuplicatesDoTheWorkOnce(t *testing.T) {
	w := newWorld(t)
	body, _ := json.Marshal(map[string]any{"connection": w.threecxConn(), "input": map[string]any{"id": 32}})
	var wg sync.WaitGroup
	answers := make([]answer, 8)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = w.post("/v1/actions/threecx.generateAppToken", body, "Idempotency-Key", "rotate-32")
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.status != 200 || a.raw != answers[0].raw {
			t.Fatalf("answer %d differs: %d %s", i, a.status, a.raw)
		}
	}
	if n := w.pbxInj.Requests("POST", generatePath); n != 1 {
		t.Fatalf("generated %d tokens", n)
	}
}

// A failure that is not final (5xx) is not stored: the sender's retry
// does the work.
func TestRetryAfterAServerFailureDoesTheWork(t *testing.T) {
	w := newWorld(t)
	w.pbxInj.Add(faults.Rule{Path: revokePath, Times: 4, Fault: faults.Status(http.StatusBadGateway, "")})
	body, _ := json.Marshal(map[string]any{"connection": w.threecxConn(), "input": map[string]any{"id": 1}})
	if a := w.post("/v1/actions/threecx.revokeSecurityToken", body, "Idempotency-Key", "k"); a.status != 502 {
		t.Fatalf("first: %d %s", a.status, a.raw)
	}
	a := w.post("/v1/actions/threecx.revokeSecurityToken", body, "Idempotency-Key", "k")
	if a.status != 200 || a.header.Get("Idempotent-Replayed") != "" || !revoked(t, w.pbx, 1) {
		t.Fatalf("second: %d %s", a.status, a.raw)
	}
}
