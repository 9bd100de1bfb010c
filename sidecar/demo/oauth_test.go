package demo_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/demo"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/githubemu"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/sidecartest"
)

func startDemo(t *testing.T) (*demo.Upstreams, string) {
	t.Helper()
	up, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close(context.Background()) })
	srv := sidecartest.Serve(t, httpapi.Options{DemoConnections: up.Connections, DemoTokens: up.Tokens})
	return up, srv.URL
}

func postJSON(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// The demo's OAuth examples work as the banner prints them: each revokes a
// demo token through the sidecar, and the demo server then reports it
// inactive (a dry run leaves it active).
func TestDemoRevokesATokenThroughEveryDialect(t *testing.T) {
	up, url := startDemo(t)
	examples := []demo.Example{{Connection: "oauth", Action: "oauth.revokeToken", Input: up.Try["oauth.revokeToken"]}}
	for _, e := range up.Examples {
		if strings.HasPrefix(e.Action, "oauth.") {
			examples = append(examples, e)
		}
	}
	active := map[string]func(string) bool{
		"oauth":  func(tok string) bool { return up.OAuth.Active(context.Background(), tok) },
		"nexus":  up.Nexus.Active,
		"github": up.GitHub.Active,
		"slack":  up.Slack.Active,
	}
	seen := map[string]bool{}
	for _, e := range examples {
		in := e.Input.(map[string]any)
		token := in["token"].(string)
		dryRun, _ := in["dryRun"].(bool)
		if !active[e.Connection](token) {
			t.Fatalf("%s: the demo token is inactive before the call", e.Connection)
		}
		status, body := postJSON(t, url+"/v1/actions/"+e.Action, map[string]any{"connection": up.Connections[e.Connection], "input": e.Input})
		if status != 200 || active[e.Connection](token) != dryRun {
			t.Errorf("%s (dry run %v): status %d %v, token active: %v", e.Connection, dryRun, status, body, active[e.Connection](token))
		}
		if strings.Contains(mustJSON(body), token) {
			t.Errorf("%s: the answer repeats the token: %v", e.Connection, body)
		}
		seen[e.Connection] = true
	}
	for c := range active {
		if !seen[c] {
			t.Errorf("no demo example for %s", c)
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// From the demo, a GitHub and a Slack token read from GET /v1/demo/tokens
// are revoked through the sidecar, and the emulators' own check endpoints
// (GitHub's "Check a token", Slack's auth.test) then call them revoked.
func TestDemoGitHubAndSlackTokensTestAsRevokedAfterRevocation(t *testing.T) {
	up, url := startDemo(t)
	resp, err := http.Get(url + "/v1/demo/tokens")
	if err != nil {
		t.Fatal(err)
	}
	var tokens map[string][]map[string]string
	err = json.NewDecoder(resp.Body).Decode(&tokens)
	resp.Body.Close()
	if err != nil || len(tokens["github"]) == 0 || len(tokens["slack"]) == 0 || len(tokens["oauth"]) == 0 || len(tokens["nexus"]) == 0 {
		t.Fatalf("demo tokens %v, %v", tokens, err)
	}
	gh := up.Connections["github"].(map[string]any)
	ghCheck := func(tok string) int {
		req, _ := http.NewRequest(http.MethodPost, gh["baseUrl"].(string)+githubemu.TokenPath(gh["clientId"].(string)), strings.NewReader(`{"access_token":"`+tok+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(gh["clientId"].(string), gh["clientSecret"].(string))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	sl := up.Connections["slack"].(map[string]any)
	slackTest := func(tok string) string {
		req, _ := http.NewRequest(http.MethodPost, sl["baseUrl"].(string)+"/auth.test", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m struct {
			OK    bool
			Error string
		}
		_ = json.NewDecoder(resp.Body).Decode(&m)
		if m.OK {
			return "ok"
		}
		return m.Error
	}
	ghTok, slTok := tokens["github"][1]["accessToken"], tokens["slack"][1]["accessToken"]
	if ghCheck(ghTok) != 200 || slackTest(slTok) != "ok" {
		t.Fatal("the demo tokens do not work before revocation")
	}
	for conn, tok := range map[string]string{"github": ghTok, "slack": slTok} {
		status, body := postJSON(t, url+"/v1/actions/oauth.revokeToken", map[string]any{"connection": up.Connections[conn], "input": map[string]any{"token": tok}})
		data, _ := body["data"].(map[string]any)
		if status != 200 || data["revoked"] != true || data["preset"] != conn || data["dialect"] != conn {
			t.Errorf("%s: %d %v", conn, status, body)
		}
	}
	if got := ghCheck(ghTok); got != 404 {
		t.Errorf("GitHub check after revocation: %d, want 404", got)
	}
	if got := slackTest(slTok); got != "token_revoked" {
		t.Errorf("Slack auth.test after revocation: %q, want token_revoked", got)
	}
	// Revoking again: GitHub no longer knows the token (a clear 404 problem),
	// Slack says token_revoked, which is success with a note.
	status, body := postJSON(t, url+"/v1/actions/oauth.revokeToken", map[string]any{"connection": up.Connections["slack"], "input": map[string]any{"token": slTok}})
	if data, _ := body["data"].(map[string]any); status != 200 || !strings.Contains(data["note"].(string), "already") {
		t.Errorf("Slack revoked twice: %d %v", status, body)
	}
	status, body = postJSON(t, url+"/v1/actions/oauth.revokeToken", map[string]any{"connection": up.Connections["github"], "input": map[string]any{"token": ghTok}})
	if status != 404 || !strings.Contains(body["detail"].(string), "no such token") {
		t.Errorf("GitHub revoked twice: %d %v", status, body)
	}
}

// The credential test n8n runs works for every OAuth demo connection,
// GitHub's (a check of a random token) and Slack's (api.test) included.
func TestDemoOAuthConnectionsPassTheConnectionTest(t *testing.T) {
	up, url := startDemo(t)
	for _, key := range []string{"oauth", "nexus", "github", "slack"} {
		if status, body := postJSON(t, url+"/v1/connections/oauth/test", map[string]any{"connection": up.Connections[key]}); status != 200 {
			t.Errorf("%s: %d %v", key, status, body)
		}
	}
	gh := map[string]any{}
	for k, v := range up.Connections["github"].(map[string]any) {
		gh[k] = v
	}
	gh["clientSecret"] = "not-the-secret"
	if status, body := postJSON(t, url+"/v1/connections/oauth/test", map[string]any{"connection": gh}); status != 502 || body["type"] == nil {
		t.Errorf("GitHub with a wrong secret: %d %v", status, body)
	}
}

// The lifecycle examples of the banner do what the issue promised from
// `make run`: a dry run leaves the 3CX token unrevoked, verify revokes it
// and says verified, the Appgate dry run over OU=ldap revokes nothing.
func TestDemoLifecycleExamples(t *testing.T) {
	up, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close(context.Background()) })
	srv := sidecartest.Serve(t, httpapi.Options{DemoConnections: up.Connections})
	revoked := func(id int) bool {
		raw, _ := up.ThreeCX.SecurityToken(int32(id))
		var tok map[string]any
		_ = json.Unmarshal(raw, &tok)
		return tok["Revoked"] != nil
	}
	seen := 0
	for _, e := range up.Examples {
		in, _ := e.Input.(map[string]any)
		if in["dryRun"] != true && in["verify"] != true {
			continue
		}
		seen++
		body, _ := json.Marshal(map[string]any{"connection": up.Connections[e.Connection], "input": e.Input})
		resp, err := http.Post(srv.URL+"/v1/actions/"+e.Action, "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %v: %d %v", e.Action, e.Input, resp.StatusCode, out)
		}
		switch {
		case e.Action == "threecx.revokeSecurityToken" && in["dryRun"] == true:
			if revoked(in["id"].(int)) {
				t.Fatal("the dry run revoked the token")
			}
		case e.Action == "threecx.revokeSecurityToken":
			if d := out["data"].(map[string]any); d["verified"] != true || !revoked(in["id"].(int)) {
				t.Fatalf("verify: %v", d)
			}
		case e.Action == "appgate.revokeDeviceTokens":
			if n := len(out["data"].([]any)); n == 0 || len(up.Appgate.Revocations()) != 0 {
				t.Fatalf("appgate dry run listed %d devices, %d revocations", n, len(up.Appgate.Revocations()))
			}
		case e.Action == "oauth.revokeToken" && in["dryRun"] == true:
			if d := out["data"].(map[string]any); d["dryRun"] != true || d["revoked"] != false || d["wouldRevoke"] != true {
				t.Fatalf("%s dry run: %v", e.Connection, d)
			}
		}
	}
	// 3CX dry run and verify, Appgate dry run, GitHub and Slack dry runs.
	if seen != 5 {
		t.Fatalf("%d lifecycle examples, want 5", seen)
	}
}
