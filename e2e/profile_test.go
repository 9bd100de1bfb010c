//go:build e2e

package e2e

// Server-side connection profiles: an n8n credential in "Use a Sidecar
// Profile" mode holds only the sidecar's address, its API key and a profile
// name. A second `tokenwarden demo` keeps the main demo's PBX as a profile
// whose secret comes from an environment variable of that process only, so
// the upstream secret is in neither n8n nor the config file.
//
// A capture server stands in for the sidecar to hold n8n to the exact body it
// sends in each mode: the sidecar refuses a body with both connection and
// profile.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const (
	pbxProfile = "pbx-demo"
	// Test-only values, set for the profile sidecar's process alone.
	profileSidecarKey = "e2e-profile-sidecar-key-000001"
	profileKeyEnv     = "TW_E2E_SIDECAR_KEY"
	profileSecretEnv  = "TW_E2E_PBX_SECRET"
	// A secret left behind in a credential switched to profile mode: it
	// must not be sent.
	staleSecret = "stale-secret-from-details-mode"
	// The secret the capture credential sends in details mode (the capture
	// server calls no upstream).
	captureSecret = "capture-only-client-secret"
)

// startProfileSidecar runs `tokenwarden demo --config` with a profile for the
// main demo's PBX and a required API key, both secrets given as env vars.
func startProfileSidecar(tmp string) (stop func(), err error) {
	pbx := env.connections["threecx"]
	cfg := map[string]any{
		"apiKeys": []any{map[string]any{"id": "e2e", "env": profileKeyEnv}},
		"profiles": map[string]any{pbxProfile: map[string]any{
			"provider": "threecx",
			"connection": map[string]any{
				"baseUrl": pbx["baseUrl"], "clientId": pbx["clientId"],
				"clientSecret": map[string]any{"env": profileSecretEnv},
			},
		}},
	}
	path := filepath.Join(tmp, "profile-sidecar.json")
	if err := writeJSON(path, cfg); err != nil {
		return nil, err
	}
	env.profileSidecarURL, stop, err = launchSidecar(env.sidecarBin, filepath.Join(tmp, "profile-sidecar.log"),
		[]string{"--config", path},
		profileKeyEnv+"="+profileSidecarKey, profileSecretEnv+"="+pbx["clientSecret"].(string))
	return stop, err
}

// Credentials of the profile tests, by the connection name their id and
// name derive from (credentialRef).
func profileCredentialData() map[string]map[string]any {
	profile := func(url, key, name string) map[string]any {
		return map[string]any{"sidecarUrl": url, "sidecarApiKey": key, "connectionMode": "profile", "profile": name}
	}
	stale := profile(env.capture.URL, profileSidecarKey, pbxProfile)
	stale["baseUrl"], stale["clientId"], stale["clientSecret"] = "http://pbx.invalid", "stale-client", staleSecret
	return map[string]map[string]any{
		"profile":        profile(env.profileSidecarURL, profileSidecarKey, pbxProfile),
		"profileUnknown": profile(env.profileSidecarURL, profileSidecarKey, "no-such-profile"),
		"captureDetails": {"sidecarUrl": env.capture.URL, "baseUrl": "http://pbx.invalid", "clientId": "capture-client", "apiKey": captureSecret},
		"captureProfile": stale,
	}
}

func profileCredentials() []map[string]any {
	var out []map[string]any
	data := profileCredentialData()
	for _, conn := range keys(data) {
		ref := credentialRef(conn)
		out = append(out, map[string]any{"id": ref["id"], "name": ref["name"], "type": credentialOf[threeCxType].typ, "data": data[conn]})
	}
	return out
}

func revokeOn(conn string) wfNode {
	return twOn(conn, "Revoke Security Token", threeCxType, map[string]any{"resource": "securityToken", "operation": "revoke", "id": revokeID})
}

func profileWorkflows() []workflow {
	return []workflow{
		chain("tcxProfileList", twOn("profile", "List Security Tokens", threeCxType, map[string]any{
			"resource": "securityToken", "operation": "list", "limit": 3,
			"options": map[string]any{"select": "Id,DisplayName", "orderBy": "Id"},
		})),
		chain("tcxProfileUnknown", revokeOn("profileUnknown")),
		chain("captureDetails", revokeOn("captureDetails")),
		chain("captureProfile", revokeOn("captureProfile")),
	}
}

func TestProfileCredentialRunsWorkflow(t *testing.T) {
	r := execute(t, "tcxProfileList")
	if r.Status != "success" {
		t.Fatalf("status %s, want success: %s", r.Status, trimAll(string(r.raw)))
	}
	got := r.items(t, "List Security Tokens")
	if len(got) != 3 {
		t.Fatalf("%d items, want 3: %v", len(got), got)
	}
	for i, it := range got {
		if id, _ := it.JSON["Id"].(float64); int(id) != i+1 {
			t.Errorf("item %d: Id %v, want %d", i, it.JSON["Id"], i+1)
		}
	}
}

func TestUnknownProfileIsANodeError(t *testing.T) {
	r := execute(t, "tcxProfileUnknown")
	e := r.Data.ResultData.Error
	if r.Status != "error" || e == nil {
		t.Fatalf("status %s, want error: %s", r.Status, trimAll(string(r.raw)))
	}
	for _, want := range []string{`no profile named "no-such-profile"`, pbxProfile} {
		if !strings.Contains(e.Description+e.Message, want) {
			t.Errorf("node error %q / %q does not say %q", e.Message, e.Description, want)
		}
	}
}

// What n8n puts on the wire: in details mode the connection and no profile,
// in profile mode the profile and no connection (nor any field left over from
// details mode), for a node's request and for the Test button alike.
func TestWireBodyPerConnectionMode(t *testing.T) {
	details := map[string]any{
		"baseUrl": "http://pbx.invalid", "clientId": "capture-client", "clientSecret": captureSecret,
		"tokenLifetimeUnit": "auto", "tls": map[string]any{"allowUnauthorizedCerts": false},
	}
	input := map[string]any{"id": float64(revokeID)}
	env.capture.take()
	for _, tc := range []struct {
		workflow, auth string
		body           map[string]any
	}{
		{"captureDetails", "", map[string]any{"connection": details, "input": input}},
		{"captureProfile", "Bearer " + profileSidecarKey, map[string]any{"profile": pbxProfile, "input": input}},
	} {
		t.Run(tc.workflow, func(t *testing.T) {
			if r := execute(t, tc.workflow); r.Status != "success" {
				t.Fatalf("status %s: %s", r.Status, trimAll(string(r.raw)))
			}
			env.capture.expect(t, "/v1/actions/threecx.revokeSecurityToken", tc.auth, tc.body)
		})
	}

	s := startN8NServer(t)
	data := profileCredentialData()
	for _, tc := range []struct {
		conn, auth string
		body       map[string]any
	}{
		{"captureDetails", "", map[string]any{"connection": details}},
		{"captureProfile", "Bearer " + profileSidecarKey, map[string]any{"profile": pbxProfile}},
	} {
		t.Run("Test button "+tc.conn, func(t *testing.T) {
			cred := map[string]any{"id": credentialID(tc.conn), "name": credentialRef(tc.conn)["name"], "type": credentialOf[threeCxType].typ}
			if status, msg := s.testCredential(t, cred, data[tc.conn]); status != "OK" {
				t.Fatalf("%s %q, want OK", status, msg)
			}
			env.capture.expect(t, "/v1/connections/threecx/test", tc.auth, tc.body)
		})
	}

}

// Test on a profile credential signs in through the profile sidecar, and
// names a wrong sidecar key or an unknown profile.
func TestProfileCredentialTestButton(t *testing.T) {
	s := startN8NServer(t)
	data := profileCredentialData()
	for _, tc := range []struct {
		name, key, profile, status, message string
	}{
		{"profile", profileSidecarKey, pbxProfile, "OK", ""},
		{"wrong sidecar key", "not-the-sidecar-key-00000", pbxProfile, "Error", "refused the Sidecar API Key"},
		{"unknown profile", profileSidecarKey, "no-such-profile", "Error", "missing or malformed"},
	} {
		t.Run("Test button "+tc.name, func(t *testing.T) {
			d := clone(data["profile"])
			d["sidecarApiKey"], d["profile"] = tc.key, tc.profile
			cred := map[string]any{"id": credentialID("profile"), "name": credentialRef("profile")["name"], "type": credentialOf[threeCxType].typ}
			status, msg := s.testCredential(t, cred, d)
			if status != tc.status || !strings.Contains(msg, tc.message) {
				t.Errorf("%s %q, want %s %q", status, msg, tc.status, tc.message)
			}
		})
	}
}

// capture is a stand-in sidecar that records every request and answers
// success.
type capture struct {
	*httptest.Server
	mu  sync.Mutex
	got []captured
}

type captured struct {
	path, auth string
	body       []byte
}

func newCapture() *capture {
	c := &capture{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.got = append(c.got, captured{path: r.URL.Path, auth: r.Header.Get("Authorization"), body: body})
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data": {"ok": true}}`))
	}))
	return c
}

// take returns the requests received since the last take.
func (c *capture) take() []captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.got
	c.got = nil
	return out
}

// expect checks that exactly one request came since the last take, with this
// path, Authorization header and JSON body, member for member.
func (c *capture) expect(t *testing.T, path, auth string, body map[string]any) {
	t.Helper()
	got := c.take()
	if len(got) != 1 {
		t.Fatalf("the sidecar got %d requests, want 1", len(got))
	}
	g := got[0]
	t.Logf("%s sent: %s", path, g.body)
	if g.path != path || g.auth != auth {
		t.Errorf("request to %s with Authorization %q, want %s with %q", g.path, g.auth, path, auth)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(g.body))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body %s: %v", g.body, err)
	}
	if !reflect.DeepEqual(m, body) {
		want, _ := json.Marshal(body)
		t.Errorf("body\n  %s\nwant\n  %s", g.body, want)
	}
	if bytes.Contains(g.body, []byte(staleSecret)) {
		t.Errorf("body carries the secret left in the credential from details mode: %s", g.body)
	}
}
