package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

// guarded is the real router as serve builds it on a loopback listener,
// with demo connections holding a canary secret.
func guarded(t *testing.T) http.Handler {
	t.Helper()
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Registry: reg, LoopbackOnly: true, AllowedHosts: []string{"sidecar.internal"},
		AllowedOrigins:  []string{"https://flows.example.com"},
		DemoConnections: map[string]any{"threecx": map[string]any{"clientSecret": "demo-canary-secret"}}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Each probe is what a hostile page (or a rebound host name) makes a
// browser send; each is refused with its own problem kind, and nothing of
// the demo secret leaks.
func TestBrowserRequestsAreRefusedUnlessMeant(t *testing.T) {
	h := guarded(t)
	const revoke = "/v1/actions/threecx.revokeSecurityToken"
	const body = `{"connection": {"baseUrl": "https://pbx.example", "clientId": "x", "clientSecret": "y"}, "input": {"id": "abc"}}`
	for _, c := range []struct {
		name, method, path, host string
		header                   map[string]string
		status                   int
		kind                     action.Kind
	}{
		{"text/plain POST", http.MethodPost, revoke, "127.0.0.1:8787", map[string]string{"Content-Type": "text/plain"}, 415, action.KindUnsupportedMedia},
		{"form POST", http.MethodPost, revoke, "127.0.0.1:8787", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, action.KindUnsupportedMedia},
		{"no content type", http.MethodPost, revoke, "127.0.0.1:8787", nil, 415, action.KindUnsupportedMedia},
		{"foreign Origin", http.MethodPost, revoke, "127.0.0.1:8787", map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, 403, action.KindOriginRefused},
		{"null Origin", http.MethodPost, revoke, "127.0.0.1:8787", map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403, action.KindOriginRefused},
		{"cross-site fetch", http.MethodGet, "/v1/actions", "127.0.0.1:8787", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, action.KindOriginRefused},
		{"rebound Host", http.MethodPost, revoke, "attacker.example:8787", map[string]string{"Content-Type": "application/json"}, 421, action.KindHostRefused},
		{"rebound Host, demo secrets", http.MethodGet, "/v1/demo/connections", "rebind.attacker.example", nil, 421, action.KindHostRefused},
		{"foreign Origin, demo secrets", http.MethodGet, "/v1/demo/connections", "localhost:8787", map[string]string{"Origin": "http://evil.example"}, 403, action.KindOriginRefused},
		// What is meant passes the guards (and then fails validation, 422).
		{"JSON from a workflow engine", http.MethodPost, revoke, "127.0.0.1:8787", map[string]string{"Content-Type": "application/json; charset=utf-8"}, 422, action.KindInvalidInput},
		{"allowed Origin", http.MethodPost, revoke, "localhost:8787", map[string]string{"Content-Type": "application/json", "Origin": "https://FLOWS.example.com"}, 422, action.KindInvalidInput},
		{"allowed Host", http.MethodPost, revoke, "sidecar.internal:8787", map[string]string{"Content-Type": "application/json"}, 422, action.KindInvalidInput},
		{"IPv6 loopback", http.MethodPost, revoke, "[::1]:8787", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}, 422, action.KindInvalidInput},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rd *strings.Reader
			if c.method == http.MethodPost {
				rd = strings.NewReader(body)
			} else {
				rd = strings.NewReader("")
			}
			req := httptest.NewRequest(c.method, c.path, rd)
			req.Host = c.host
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var p action.Problem
			_ = json.Unmarshal(rec.Body.Bytes(), &p)
			if rec.Code != c.status || p.Type != action.ProblemBase+string(c.kind) {
				t.Fatalf("%d %s, want %d %s: %s", rec.Code, p.Type, c.status, c.kind, rec.Body)
			}
			if strings.Contains(rec.Body.String(), "demo-canary-secret") {
				t.Fatal("the demo secret was served")
			}
		})
	}
	// The demo connections are still served to a loopback caller.
	req := httptest.NewRequest(http.MethodGet, "/v1/demo/connections", nil)
	req.Host = "localhost:8787"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "demo-canary-secret") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
