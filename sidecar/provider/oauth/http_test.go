package oauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/nexusemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/oauthdemo"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/sidecartest"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"
)

// These tests go through the sidecar's HTTP API, as curl and n8n do.

type sidecar struct {
	url  string
	logs *testlog.Buffer
}

// startSidecar serves the API and captures every log line, the providers'
// included, to check them for secrets when the test ends.
func startSidecar(t *testing.T, secrets ...string) *sidecar {
	t.Helper()
	logs := &testlog.Buffer{}
	srv := sidecartest.Serve(t, httpapi.Options{Logger: logs.Logger()})
	t.Cleanup(func() {
		for _, s := range secrets {
			if strings.Contains(logs.String(), s) {
				t.Errorf("a log line contains %q:\n%s", s, logs)
			}
		}
	})
	return &sidecar{url: srv.URL, logs: logs}
}

func (s *sidecar) post(t *testing.T, path string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(s.url+path, "application/json", strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}

func (s *sidecar) revoke(t *testing.T, conn, input map[string]any) (int, map[string]any) {
	t.Helper()
	return s.post(t, "/v1/actions/oauth.revokeToken", map[string]any{"connection": conn, "input": input})
}

func TestHTTPRevokesOnTheFositeDemoServer(t *testing.T) {
	d, err := oauthdemo.NewDemo(1)
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(d.Handler())
	t.Cleanup(up.Close)
	tok := d.Tokens[0]
	sc := startSidecar(t, d.ClientSecret, tok.AccessToken, tok.RefreshToken)
	conn := map[string]any{"issuer": up.URL, "clientId": d.ClientID, "clientSecret": d.ClientSecret}

	status, body := sc.revoke(t, conn, map[string]any{"token": tok.RefreshToken, "tokenTypeHint": "refresh_token"})
	if status != 200 {
		t.Fatalf("%d %v", status, body)
	}
	data := body["data"].(map[string]any)
	if data["revoked"] != true || data["endpoint"] != up.URL+oauthdemo.RevokePath || data["dialect"] != "rfc7009" || !strings.HasPrefix(data["tokenFingerprint"].(string), "sha256:") {
		t.Errorf("data %v", data)
	}
	raw, _ := json.Marshal(body)
	if strings.Contains(string(raw), tok.RefreshToken) {
		t.Error("the answer echoes the token")
	}
	if d.Active(context.Background(), tok.RefreshToken) || d.Active(context.Background(), tok.AccessToken) {
		t.Error("fosite still accepts the tokens")
	}
	// The provider's own log lines are among those checked for secrets.
	if !strings.Contains(sc.logs.String(), `"msg":"oauth token revoked"`) || !strings.Contains(sc.logs.String(), data["tokenFingerprint"].(string)) {
		t.Errorf("the provider's log line is missing:\n%s", sc.logs)
	}

	if status, body := sc.post(t, "/v1/connections/oauth/test", map[string]any{"connection": conn}); status != 200 {
		t.Errorf("connection test: %d %v", status, body)
	}
	conn["clientSecret"] = "wrong"
	if status, body := sc.post(t, "/v1/connections/oauth/test", map[string]any{"connection": conn}); status != 502 || body["type"] != action.ProblemBase+"upstream-auth-failed" {
		t.Errorf("connection test with a wrong secret: %d %v", status, body)
	}
}

func TestHTTPRevokesOnTheNexusEmulator(t *testing.T) {
	emu := nexusemu.New(nexusemu.Client{ID: "MyClient", Secret: "abcd1234"})
	up := httptest.NewServer(emu.Handler())
	t.Cleanup(up.Close)
	access, refresh := emu.IssuePair("MyClient")
	sc := startSidecar(t, "abcd1234", access, refresh)
	conn := map[string]any{"dialect": "nexus", "baseUrl": up.URL, "clientId": "MyClient", "clientSecret": "abcd1234", "clientAuthMethod": "client_secret_post"}

	status, body := sc.revoke(t, conn, map[string]any{"token": access, "tokenTypeHint": "access_token"})
	if status != 200 || emu.Active(access) || !emu.Active(refresh) {
		t.Fatalf("%d %v; access active %v, refresh active %v", status, body, emu.Active(access), emu.Active(refresh))
	}
	if status, body := sc.post(t, "/v1/connections/oauth/test", map[string]any{"connection": conn}); status != 200 {
		t.Errorf("connection test: %d %v", status, body)
	}
	if !emu.Active(refresh) {
		t.Error("the connection test revoked a real token")
	}
}

// Each failure a flow builder may meet gets its own problem type.
func TestHTTPFailuresAreDistinctProblems(t *testing.T) {
	const token = "tok-HTTP-CANARY-51c2"
	emu := nexusemu.New(nexusemu.Client{ID: "MyClient", Secret: "right-secret"})
	nexus := httptest.NewServer(emu.Handler())
	t.Cleanup(nexus.Close)
	storm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(storm.Close)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "<html><title>Oops - Gateway Error</title><body>token "+token+"</body></html>")
	}))
	t.Cleanup(html.Close)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	sc := startSidecar(t, token, "right-secret", "wrong-secret")
	rfc := func(url string) map[string]any {
		return map[string]any{"revocationUrl": url, "clientId": "MyClient", "clientSecret": "right-secret"}
	}
	seen := map[string]string{}
	for _, tc := range []struct {
		name   string
		conn   map[string]any
		input  map[string]any
		status int
		kind   string
		detail string
	}{
		{"503 storm", rfc(storm.URL), map[string]any{"token": token}, 503, "outcome-unknown", "may still be active"},
		{"wrong secret", map[string]any{"dialect": "nexus", "baseUrl": nexus.URL, "clientId": "MyClient", "clientSecret": "wrong-secret"}, map[string]any{"token": token}, 502, "upstream-auth-failed", "rejected the client credentials"},
		{"missing token", rfc(storm.URL), map[string]any{}, 422, "invalid-input", "input.token"},
		{"unreachable server", rfc(gone.URL), map[string]any{"token": token}, 502, "upstream-unreachable", "could not be reached"},
		{"HTML error page", rfc(html.URL), map[string]any{"token": token}, 502, "upstream-error", `HTML page titled "Oops - Gateway Error"`},
		{"Nexus without client authentication", map[string]any{"dialect": "nexus", "baseUrl": nexus.URL, "clientId": "MyClient", "clientAuthMethod": "none"}, map[string]any{"token": token}, 422, "invalid-input", "connection.clientAuthMethod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := sc.revoke(t, tc.conn, tc.input)
			kind := strings.TrimPrefix(body["type"].(string), action.ProblemBase)
			if status != tc.status || kind != tc.kind || !strings.Contains(body["detail"].(string), tc.detail) {
				t.Fatalf("%d %v", status, body)
			}
			if prev, dup := seen[kind]; dup && tc.kind != "invalid-input" {
				t.Errorf("%s gives the same problem as %s", tc.name, prev)
			}
			seen[kind] = tc.name
			raw, _ := json.Marshal(body)
			for _, s := range []string{token, "right-secret", "wrong-secret"} {
				if strings.Contains(string(raw), s) {
					t.Errorf("the problem carries %q: %s", s, raw)
				}
			}
		})
	}
}

func TestHTTPListsTheActionWithItsSchemas(t *testing.T) {
	sc := startSidecar(t)
	resp, err := http.Get(sc.url + "/v1/actions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(raw), `"id":"oauth.revokeToken"`) || !strings.Contains(string(raw), `"tokenTypeHint"`) {
		t.Errorf("GET /v1/actions lacks oauth.revokeToken: %.300s", raw)
	}
}
