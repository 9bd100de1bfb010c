package slackemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func call(t *testing.T, h http.Handler, method, token string, form url.Values) map[string]any {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/"+method, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("%s answered HTTP %d; Slack answers 200 with ok false", method, rec.Code)
	}
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return m
}

func TestTestModeThenRevokeThenAuthTest(t *testing.T) {
	s := New()
	h := s.Handler("/api")
	tok := s.IssueToken("alice")
	if m := call(t, h, "auth.test", tok, nil); m["ok"] != true || m["user"] != "alice" || m["team_id"] != TeamID {
		t.Fatalf("auth.test: %v", m)
	}
	if m := call(t, h, "auth.revoke", tok, url.Values{"test": {"1"}}); m["ok"] != true || m["revoked"] != false || !s.Active(tok) {
		t.Fatalf("test mode: %v", m)
	}
	if m := call(t, h, "auth.revoke", tok, nil); m["ok"] != true || m["revoked"] != true || s.Active(tok) {
		t.Fatalf("revoke: %v", m)
	}
	if m := call(t, h, "auth.test", tok, nil); m["ok"] != false || m["error"] != "token_revoked" {
		t.Errorf("auth.test after revoke: %v", m)
	}
	// The token may also come as a form argument.
	other := s.IssueToken("bob")
	if m := call(t, h, "auth.revoke", "", url.Values{"token": {other}}); m["revoked"] != true {
		t.Errorf("token as argument: %v", m)
	}
}

func TestErrorsComeInTheBody(t *testing.T) {
	h := New().Handler("/api")
	if m := call(t, h, "auth.revoke", "", nil); m["error"] != "not_authed" {
		t.Errorf("no token: %v", m)
	}
	if m := call(t, h, "auth.revoke", "xoxp-unknown", nil); m["error"] != "invalid_auth" {
		t.Errorf("unknown token: %v", m)
	}
	if m := call(t, h, "api.test", "", url.Values{"foo": {"bar"}}); m["ok"] != true || m["args"].(map[string]any)["foo"] != "bar" {
		t.Errorf("api.test: %v", m)
	}
}
