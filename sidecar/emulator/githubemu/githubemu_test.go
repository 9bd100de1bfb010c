package githubemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func call(t *testing.T, h http.Handler, method, clientID, user, pass, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, TokenPath(clientID), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec.Code, m
}

// The documented flow: check answers 200 with the authorization, delete
// answers 204 No Content, and a deleted token checks as 404.
func TestCheckDeleteCheck(t *testing.T) {
	s := New(nil, App{ClientID: "Iv1.a", ClientSecret: "sec", Name: "A"})
	h := s.Handler()
	tok := s.IssueToken("Iv1.a", "alice")
	if !strings.HasPrefix(tok, "gho_") || len(tok) != 40 {
		t.Errorf("token %q does not look like GitHub's", tok)
	}
	body := `{"access_token":"` + tok + `"}`
	code, m := call(t, h, http.MethodPost, "Iv1.a", "Iv1.a", "sec", body)
	if code != 200 || m["token"] != tok || m["app"].(map[string]any)["client_id"] != "Iv1.a" || m["token_last_eight"] != tok[32:] {
		t.Fatalf("check: %d %v", code, m)
	}
	if code, _ := call(t, h, http.MethodDelete, "Iv1.a", "Iv1.a", "sec", body); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, m := call(t, h, http.MethodPost, "Iv1.a", "Iv1.a", "sec", body); code != 404 || m["message"] != "Not Found" || s.Active(tok) {
		t.Errorf("check after delete: %d %v", code, m)
	}
}

func TestRefusals(t *testing.T) {
	s := New(nil, App{ClientID: "Iv1.a", ClientSecret: "sec"}, App{ClientID: "Iv1.b", ClientSecret: "other"})
	h := s.Handler()
	tok := s.IssueToken("Iv1.a", "alice")
	body := `{"access_token":"` + tok + `"}`
	for _, tc := range []struct {
		name, client, user, pass, body string
		want                           int
	}{
		{"no credentials", "Iv1.a", "", "", body, 401},
		{"wrong secret", "Iv1.a", "Iv1.a", "nope", body, 401},
		{"unknown app", "Iv1.zz", "Iv1.zz", "sec", body, 404},
		{"another app's token", "Iv1.b", "Iv1.b", "other", body, 404},
		{"no access_token", "Iv1.a", "Iv1.a", "sec", `{}`, 422},
		{"not JSON", "Iv1.a", "Iv1.a", "sec", `access_token=x`, 400},
	} {
		if code, m := call(t, h, http.MethodDelete, tc.client, tc.user, tc.pass, tc.body); code != tc.want || m["documentation_url"] == nil {
			t.Errorf("%s: %d %v, want %d", tc.name, code, m, tc.want)
		}
	}
	if !s.Active(tok) {
		t.Error("a refused call deleted the token")
	}
}
