package faultsuite

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/audit"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

const (
	revokePath   = "/xapi/v1/SecurityTokens(1)/Pbx.RevokeToken"
	generatePath = "/xapi/v1/ServicePrincipals(32)/Pbx.GenerateAppToken"
	listPath     = "/xapi/v1/SecurityTokens"
	tokenPath    = "/connect/token"
)

func TestRevokeRetriesTwo503sThenSucceedsOnce(t *testing.T) {
	w := newWorld(t)
	w.pbxInj.Add(faults.Rule{Path: revokePath, Times: 2, Fault: faults.Status(http.StatusServiceUnavailable, "")})
	a := w.call("threecx.revokeSecurityToken", w.threecxConn(), map[string]any{"id": 1})
	if a.status != 200 || !revoked(t, w.pbx, 1) {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	_, retries := w.recorded()
	if w.pbxInj.Requests("POST", revokePath) != 3 || len(retries) != 2 || retries[0].Reason != "HTTP 503" {
		t.Fatalf("requests %d retries %+v", w.pbxInj.Requests("POST", revokePath), retries)
	}
	ev, in := w.auditEvents(), w.auditPhase(audit.PhaseIntent)
	if len(ev) != 1 || ev[0].UpstreamStatus != 204 || ev[0].Outcome != "succeeded" || len(in) != 1 || in[0].RequestID != ev[0].RequestID {
		t.Fatalf("audit %+v, intents %+v", ev, in)
	}
}

func TestRevokeHonoursRetryAfterOn429(t *testing.T) {
	w := newWorld(t)
	w.pbxInj.Add(faults.Rule{Path: revokePath, Times: 1, Fault: faults.Status(http.StatusTooManyRequests, "3")})
	if a := w.call("threecx.revokeSecurityToken", w.threecxConn(), map[string]any{"id": 1}); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if waits, _ := w.recorded(); len(waits) != 1 || waits[0] != 3*time.Second {
		t.Fatalf("waits %v", waits)
	}
}

func TestLongRetryAfterGoesBackToTheCaller(t *testing.T) {
	w := newWorld(t)
	w.pbxInj.Add(faults.Rule{Path: revokePath, Fault: faults.Status(http.StatusTooManyRequests, "120")})
	a := w.call("threecx.revokeSecurityToken", w.threecxConn(), map[string]any{"id": 1})
	if a.status != 429 || a.problem() != "upstream-rate-limited" || a.header.Get("Retry-After") != "120" || a.body["retryAfter"] != float64(120) {
		t.Fatalf("%d %v %s", a.status, a.header, a.raw)
	}
	if waits, _ := w.recorded(); len(waits) != 0 || revoked(t, w.pbx, 1) {
		t.Fatalf("waited %v or revoked anyway", waits)
	}
}

func TestPersistent503IsBoundedAndNamed(t *testing.T) {
	w := newWorld(t)
	w.pbxInj.Add(faults.Rule{Path: revokePath, Fault: faults.HTML(http.StatusServiceUnavailable)})
	a := w.call("threecx.revokeSecurityToken", w.threecxConn(), map[string]any{"id": 1})
	if a.status != 502 || a.problem() != "upstream-error" || !strings.Contains(a.raw, "HTML page") {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if n := w.pbxInj.Requests("POST", revokePath); n != 4 {
		t.Fatalf("%d attempts, want the policy's 4", n)
	}
}

func TestGenerateAppTokenIsNeverRepeatedAfterAnAnswer(t *testing.T) {
	for _, code := range []int{429, 502, 503, 504} {
		w := newWorld(t)
		w.pbxInj.Add(faults.Rule{Path: generatePath, Fault: faults.Status(code, "1")})
		a := w.call("threecx.generateAppToken", w.threecxConn(), map[string]any{"id": 32})
		if a.status < 400 || w.pbxInj.Requests("POST", generatePath) != 1 {
			t.Fatalf("%d: status %d after %d requests", code, a.status, w.pbxInj.Requests("POST", generatePath))
		}
	}
}

func TestGenerateAppTokenCutOffMidAnswerHasUnknownOutcome(t *testing.T) {
	for name, f := range map[string]faults.Fault{"reset after the work": faults.ResetAfter(), "truncated answer": faults.Truncate(4)} {
		w := newWorld(t)
		w.pbxInj.Add(faults.Rule{Path: generatePath, Fault: f})
		a := w.call("threecx.generateAppToken", w.threecxConn(), map[string]any{"id": 32})
		if a.status != 503 || a.problem() != "outcome-unknown" || w.pbxInj.Requests("POST", generatePath) != 1 {
			t.Fatalf("%s: %d %s after %d requests", name, a.status, a.raw, w.pbxInj.Requests("POST", generatePath))
		}
	}
}

func TestGenerateAppTokenResetBeforeTheWorkIsNotRepeated(t *testing.T) {
	// A reset before the PBX did anything is, to the client, the same as a
	// reset after: it cannot tell, so it must not repeat.
	w := newWorld(t)
	w.pbxInj.Add(faults.Rule{Path: generatePath, Times: 1, Fault: faults.Reset()})
	a := w.call("threecx.generateAppToken", w.threecxConn(), map[string]any{"id": 32})
	if a.problem() != "outcome-unknown" || w.pbxInj.Requests("POST", generatePath) != 1 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
}

func TestRevokeSurvivesConnectionResets(t *testing.T) {
	w := newWorld(t)
	w.pbxInj.Add(faults.Rule{Path: revokePath, Times: 1, Fault: faults.Reset()})
	w.pbxInj.Add(faults.Rule{Path: revokePath, Times: 1, Fault: faults.ResetAfter()})
	a := w.call("threecx.revokeSecurityToken", w.threecxConn(), map[string]any{"id": 1})
	if a.status != 200 || !revoked(t, w.pbx, 1) || w.pbxInj.Requests("POST", revokePath) != 3 {
		t.Fatalf("%d %s after %d requests", a.status, a.raw, w.pbxInj.Requests("POST", revokePath))
	}
}

func TestTruncatedListIsReadAgain(t *testing.T) {
	w := newWorld(t)
	w.pbxInj.Add(faults.Rule{Path: listPath, Times: 1, Fault: faults.Truncate(40)})
	a := w.call("threecx.listSecurityTokens", w.threecxConn(), map[string]any{"top": 3})
	data, _ := a.body["data"].([]any)
	if a.status != 200 || len(data) != 3 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
}

func TestTokenInvalidatedMidRunSignsInOnceMore(t *testing.T) {
	w := newWorld(t)
	conn := w.threecxConn()
	if a := w.call("threecx.listSecurityTokens", conn, map[string]any{"top": 1}); a.status != 200 {
		t.Fatal(a.raw)
	}
	w.pbxInj.Add(faults.Rule{Path: revokePath, Times: 1, Fault: faults.Do(w.pbx.InvalidateAccessTokens)})
	a := w.call("threecx.revokeSecurityToken", conn, map[string]any{"id": 1})
	if a.status != 200 || !revoked(t, w.pbx, 1) || w.pbx.TokenRequests() != 2 {
		t.Fatalf("%d %s, sign-ins %d", a.status, a.raw, w.pbx.TokenRequests())
	}
}

func TestSignInRetriedOn503(t *testing.T) {
	w := newWorld(t)
	w.pbxInj.Add(faults.Rule{Path: tokenPath, Times: 2, Fault: faults.Status(http.StatusServiceUnavailable, "1")})
	if a := w.call("threecx.revokeSecurityToken", w.threecxConn(), map[string]any{"id": 1}); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
}

func TestUnreachablePBX(t *testing.T) {
	w := newWorld(t)
	conn := w.threecxConn()
	conn["baseUrl"] = "http://127.0.0.1:1" // nothing listens on port 1
	a := w.call("threecx.revokeSecurityToken", conn, map[string]any{"id": 1})
	if a.status != 502 || a.problem() != "upstream-unreachable" || !strings.Contains(a.raw, "after 4 attempt(s)") {
		t.Fatalf("%d %s", a.status, a.raw)
	}
}

func TestHangingUpstreamTimesOutAndTheSidecarStaysResponsive(t *testing.T) {
	w := newWorld(t, func(c *upstream.Config) { c.RequestTimeout = 300 * time.Millisecond; c.Retry.MaxAttempts = 1 })
	w.pbxInj.Add(faults.Rule{Path: revokePath, Fault: faults.Hang()})
	done := make(chan answer, 1)
	go func() { done <- w.call("threecx.revokeSecurityToken", w.threecxConn(), map[string]any{"id": 1}) }()
	// While 3CX hangs, Appgate calls and health checks still answer.
	if a := w.call("appgate.listOnboardedDevices", w.appgateConn(), map[string]any{}); a.status != 200 {
		t.Fatalf("appgate during the hang: %d %s", a.status, a.raw)
	}
	resp, err := http.Get(w.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz during the hang: %v", err)
	}
	resp.Body.Close()
	if a := <-done; a.status != 504 || a.problem() != "upstream-timeout" {
		t.Fatalf("%d %s", a.status, a.raw)
	}
}

func TestSSRFThroughTheAPI(t *testing.T) {
	w := newWorld(t, func(c *upstream.Config) {
		c.Lookup = fakeDNS{"pbx.rebind.example": "169.254.169.254"}.lookup
	})
	w.pbxInj.Add(faults.Rule{Path: tokenPath, Fault: faults.Redirect(http.StatusTemporaryRedirect, "http://169.254.169.254/latest/meta-data/iam/")})
	for name, base := range map[string]string{
		"direct":          "http://169.254.169.254",
		"IPv6 link-local": "http://[fe80::1]",
		"metadata name":   "http://metadata.google.internal",
		"DNS name":        "http://pbx.rebind.example",
		"redirect":        w.pbxURL,
		"unspecified":     "http://0.0.0.0:8080",
	} {
		conn := w.threecxConn()
		conn["baseUrl"] = base
		a := w.call("threecx.revokeSecurityToken", conn, map[string]any{"id": 1})
		if a.status != 403 || a.problem() != "destination-refused" {
			t.Errorf("%s: %d %s", name, a.status, a.raw)
		}
	}
	if n := w.pbxInj.Requests("POST", revokePath); n != 0 {
		t.Fatalf("revoke reached the PBX %d times", n)
	}
}

func TestSlowUpstreamWithinTheTimeoutIsNotRetried(t *testing.T) {
	w := newWorld(t)
	w.pbxInj.Add(faults.Rule{Path: revokePath, Fault: faults.Latency(50 * time.Millisecond)})
	a := w.call("threecx.revokeSecurityToken", w.threecxConn(), map[string]any{"id": 1})
	if _, retries := w.recorded(); a.status != 200 || len(retries) != 0 || w.pbxInj.Requests("POST", revokePath) != 1 {
		t.Fatalf("%d %s, retries %v", a.status, a.raw, retries)
	}
}
