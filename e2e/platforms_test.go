//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/githubemu"
)

// GitHub and Slack revocations through the OAuth node, with the demo's
// github and slack connections (credentials with Preset GitHub and Slack)
// and tokens from GET /v1/demo/tokens. Each token is asked about at its
// platform afterwards, as a user would check.

// platformTokens are the demo's GitHub and Slack access tokens, by connection.
var platformTokens map[string][]string

func platformWorkflows() ([]workflow, error) {
	if env.connections["github"] == nil || env.connections["slack"] == nil {
		return nil, nil
	}
	var tokens map[string][]map[string]string
	if err := getJSON("/v1/demo/tokens", &tokens); err != nil {
		return nil, err
	}
	platformTokens = map[string][]string{}
	for _, key := range []string{"github", "slack"} {
		for _, t := range tokens[key] {
			platformTokens[key] = append(platformTokens[key], t["accessToken"])
		}
		if len(platformTokens[key]) < 2 {
			return nil, fmt.Errorf("GET /v1/demo/tokens should list two %s tokens: %v", key, tokens[key])
		}
	}
	revoke := func(token string, dryRun bool) map[string]any {
		return map[string]any{"resource": "token", "operation": "revoke", "token": token, "dryRun": dryRun}
	}
	g, s := platformTokens["github"], platformTokens["slack"]
	return []workflow{
		chain("oaGitHubDry", twOn("github", "Check at GitHub", oauthType, revoke(g[0], true))),
		chain("oaGitHub", twOn("github", "Revoke at GitHub", oauthType, revoke(g[0], false))),
		chain("oaSlackDry", twOn("slack", "Check at Slack", oauthType, revoke(s[0], true))),
		chain("oaSlack", twOn("slack", "Revoke at Slack", oauthType, revoke(s[0], false))),
	}, nil
}

// githubTokenLive asks GitHub's "Check a token" (200 live, 404 gone).
func githubTokenLive(t *testing.T, token string) bool {
	t.Helper()
	c := env.connections["github"]
	id, _ := c["clientId"].(string)
	secret, _ := c["clientSecret"].(string)
	base, _ := c["baseUrl"].(string)
	body, _ := json.Marshal(map[string]string{"access_token": token})
	req, _ := http.NewRequest(http.MethodPost, strings.TrimRight(base, "/")+githubemu.TokenPath(id), bytes.NewReader(body))
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GitHub's token check answered %d", resp.StatusCode)
	}
	return resp.StatusCode == http.StatusOK
}

// slackTokenError is auth.test's error for the token, "" while it works.
func slackTokenError(t *testing.T, token string) string {
	t.Helper()
	base, _ := env.connections["slack"]["baseUrl"].(string)
	req, _ := http.NewRequest(http.MethodPost, strings.TrimRight(base, "/")+"/auth.test", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.OK {
		return ""
	}
	return out.Error
}

func skipWithoutPlatforms(t *testing.T) {
	if platformTokens == nil {
		t.Skip("this sidecar's demo has no GitHub and Slack connections")
	}
}

// platformItem is the one item of a revocation node, checked for its shape.
func platformItem(t *testing.T, r *run, node, preset string) map[string]any {
	t.Helper()
	mustSucceed(t, r)
	got := r.items(t, node)
	if len(got) != 1 {
		t.Fatalf("%s gave %d items, want 1", node, len(got))
	}
	j := got[0].JSON
	fp, _ := j["tokenFingerprint"].(string)
	if j["preset"] != preset || j["dialect"] != preset || !strings.HasPrefix(fp, "sha256:") {
		t.Fatalf("item %v should say preset and dialect %s and name the token by fingerprint", j, preset)
	}
	raw, _ := json.Marshal(j)
	for _, tok := range platformTokens[preset] {
		if strings.Contains(string(raw), tok) {
			t.Fatalf("item %s carries the token itself", raw)
		}
	}
	return j
}

// Tests run in file order: the dry run first, while the token still works.
func TestOAuthGitHubDryRunThenRevoke(t *testing.T) {
	skipWithoutPlatforms(t)
	tok := platformTokens["github"][0]
	j := platformItem(t, execute(t, "oaGitHubDry"), "Check at GitHub", "github")
	if j["dryRun"] != true || j["revoked"] != false || j["wouldRevoke"] != true {
		t.Fatalf("dry run item %v: want dryRun true, revoked false, wouldRevoke true", j)
	}
	if !githubTokenLive(t, tok) {
		t.Fatal("the dry run revoked the GitHub token")
	}
	j = platformItem(t, execute(t, "oaGitHub"), "Revoke at GitHub", "github")
	if j["revoked"] != true || j["dryRun"] == true {
		t.Fatalf("item %v: want revoked true", j)
	}
	if githubTokenLive(t, tok) {
		t.Fatal("GitHub still knows the revoked token")
	}
	if !githubTokenLive(t, platformTokens["github"][1]) {
		t.Fatal("another GitHub token went too")
	}
}

func TestOAuthSlackDryRunThenRevoke(t *testing.T) {
	skipWithoutPlatforms(t)
	tok := platformTokens["slack"][0]
	j := platformItem(t, execute(t, "oaSlackDry"), "Check at Slack", "slack")
	if j["dryRun"] != true || j["revoked"] != false || j["wouldRevoke"] != true {
		t.Fatalf("dry run item %v: want dryRun true, revoked false, wouldRevoke true", j)
	}
	if e := slackTokenError(t, tok); e != "" {
		t.Fatalf("after the dry run auth.test says %s, want the token working", e)
	}
	j = platformItem(t, execute(t, "oaSlack"), "Revoke at Slack", "slack")
	if j["revoked"] != true || j["dryRun"] == true {
		t.Fatalf("item %v: want revoked true", j)
	}
	if e := slackTokenError(t, tok); e != "token_revoked" {
		t.Fatalf("after the revocation auth.test says %q, want token_revoked", e)
	}
	if e := slackTokenError(t, platformTokens["slack"][1]); e != "" {
		t.Fatalf("another Slack token went too: %s", e)
	}
}
