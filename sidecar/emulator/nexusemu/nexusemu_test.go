package nexusemu

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := New(Client{ID: "MyClient", Secret: "abcd1234"}, Client{ID: "Other", Secret: "other-secret"})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv
}

// post sends a raw JSON body, with Basic credentials when user is not empty.
func post(t *testing.T, url, body, user, pass string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+RevokePath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %q", raw)
	}
	return resp.StatusCode, m
}

func TestRevokeAccessTokenWithBodyCredentialsLeavesItsRefreshToken(t *testing.T) {
	s, srv := newServer(t)
	access, refresh := s.IssuePair("MyClient")
	status, m := post(t, srv.URL, `{"token":"`+access+`","token_type_hint":"Access_Token","client_id":"MyClient","client_secret":"abcd1234"}`, "", "")
	if status != 200 || len(m) != 0 {
		t.Fatalf("%d %v, want 200 {}", status, m)
	}
	if s.Active(access) || !s.Active(refresh) {
		t.Errorf("access active %v, refresh active %v", s.Active(access), s.Active(refresh))
	}
}

func TestRevokeRefreshTokenAlsoRevokesItsAccessTokens(t *testing.T) {
	s, srv := newServer(t)
	access, refresh := s.IssuePair("MyClient")
	status, _ := post(t, srv.URL, `{"token":"`+refresh+`"}`, "MyClient", "abcd1234")
	if status != 200 || s.Active(access) || s.Active(refresh) {
		t.Fatalf("status %d, access active %v, refresh active %v", status, s.Active(access), s.Active(refresh))
	}
}

func TestHintIsTrustedSoAWrongHintRevokesNothing(t *testing.T) {
	s, srv := newServer(t)
	access, _ := s.IssuePair("MyClient")
	status, m := post(t, srv.URL, `{"token":"`+access+`","token_type_hint":"Refresh_Token"}`, "MyClient", "abcd1234")
	if status != 200 || len(m) != 0 || !s.Active(access) {
		t.Fatalf("%d %v active %v", status, m, s.Active(access))
	}
}

func TestUnknownTokenIs200(t *testing.T) {
	_, srv := newServer(t)
	if status, m := post(t, srv.URL, `{"token":"d3ba6ef1fb0c5c95cecea61c23ca2c94c0461ccd"}`, "MyClient", "abcd1234"); status != 200 || len(m) != 0 {
		t.Fatalf("%d %v", status, m)
	}
}

func TestBasicCredentialsWinAndBodyCredentialsAreIgnored(t *testing.T) {
	s, srv := newServer(t)
	access, _ := s.IssuePair("MyClient")
	status, _ := post(t, srv.URL, `{"token":"`+access+`","client_id":"MyClient","client_secret":"wrong"}`, "MyClient", "abcd1234")
	if status != 200 || s.Active(access) {
		t.Fatalf("status %d", status)
	}
}

func TestErrors(t *testing.T) {
	s, srv := newServer(t)
	otherAccess, _ := s.IssuePair("Other")
	for _, tc := range []struct {
		name, body, user, pass string
		status                 int
		code, desc             string
	}{
		{"missing token", `{"client_id":"MyClient","client_secret":"abcd1234"}`, "", "", 400, "INVALID_REQUEST", "Required parameter 'token' is null"},
		{"missing client", `{"token":"x"}`, "", "", 400, "INVALID_REQUEST", "Required parameter 'client_id' is null"},
		{"wrong secret in body", `{"token":"x","client_id":"MyClient","client_secret":"nope"}`, "", "", 401, "INVALID_CLIENT", "Client authentication failed"},
		{"wrong secret in Basic", `{"token":"x"}`, "MyClient", "nope", 401, "INVALID_CLIENT", "Client authentication failed"},
		{"bad hint", `{"token":"x","token_type_hint":"access_token"}`, "MyClient", "abcd1234", 400, "INVALID_REQUEST", "Invalid value for parameter 'token_type_hint'"},
		{"not JSON", `token=x`, "MyClient", "abcd1234", 400, "INVALID_REQUEST", "Request body is not valid JSON"},
		{"another client's token", `{"token":"` + otherAccess + `"}`, "MyClient", "abcd1234", 400, "UNAUTHORIZED_CLIENT", "The token was not issued to this client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m := post(t, srv.URL, tc.body, tc.user, tc.pass)
			if status != tc.status || m["error"] != tc.code || m["errorDescription"] != tc.desc {
				t.Errorf("%d %v", status, m)
			}
		})
	}
	if !s.Active(otherAccess) {
		t.Error("another client's token was revoked")
	}
}

func TestServerErrorLeavesTheTokenActive(t *testing.T) {
	s, srv := newServer(t)
	access, _ := s.IssuePair("MyClient")
	s.FailWithServerError(true)
	status, m := post(t, srv.URL, `{"token":"`+access+`"}`, "MyClient", "abcd1234")
	if status != 500 || m["error"] != "SERVER_ERROR" || m["errorDescription"] != "Error when trying to revoke" || !s.Active(access) {
		t.Fatalf("%d %v", status, m)
	}
}

func TestEmulatorEndpointsIssueAndIntrospect(t *testing.T) {
	s, srv := newServer(t)
	resp, err := http.Post(srv.URL+IssuePath, "application/json", strings.NewReader(`{"client_id":"MyClient"}`))
	if err != nil {
		t.Fatal(err)
	}
	var pair map[string]string
	json.NewDecoder(resp.Body).Decode(&pair)
	resp.Body.Close()
	if !s.Active(pair["access_token"]) || !s.Active(pair["refresh_token"]) {
		t.Fatalf("issued %v not active", pair)
	}
	introspect := func(tok string) map[string]any {
		resp, err := http.Post(srv.URL+IntrospectPath, "application/x-www-form-urlencoded", strings.NewReader("token="+tok))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	if m := introspect(pair["refresh_token"]); m["active"] != true || m["token_type"] != RefreshToken || m["client_id"] != "MyClient" {
		t.Errorf("introspection %v", m)
	}
	post(t, srv.URL, `{"token":"`+pair["refresh_token"]+`"}`, "MyClient", "abcd1234")
	if m := introspect(pair["access_token"]); m["active"] != false || len(m) != 1 {
		t.Errorf("introspection after revoke %v", m)
	}
}
