//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/nexusemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/oauthdemo"
)

// The demo lists the tokens its OAuth servers issued at start at GET
// /v1/demo/tokens, and each server's demo connection says where to ask
// whether a token is still active (the banner prints the same commands for
// people).

type tokenPair struct{ access, refresh string }

type oauthServer struct {
	tokens        []tokenPair
	introspectURL string
	user, pass    string // Basic credentials for introspection, if any
}

func demoOAuthServers() (map[string]*oauthServer, error) {
	var tokens map[string][]map[string]string
	if err := getJSON("/v1/demo/tokens", &tokens); err != nil {
		return nil, err
	}
	servers := map[string]*oauthServer{}
	if c := env.connections["oauth"]; c != nil {
		id, _ := c["clientId"].(string)
		secret, _ := c["clientSecret"].(string)
		issuer, _ := c["issuer"].(string)
		servers["oauth"] = &oauthServer{introspectURL: strings.TrimRight(issuer, "/") + oauthdemo.IntrospectPath, user: id, pass: secret}
	}
	if c := env.connections["nexus"]; c != nil {
		base, _ := c["baseUrl"].(string)
		servers["nexus"] = &oauthServer{introspectURL: strings.TrimRight(base, "/") + nexusemu.IntrospectPath}
	}
	for key, s := range servers {
		for _, t := range tokens[key] {
			s.tokens = append(s.tokens, tokenPair{t["accessToken"], t["refreshToken"]})
		}
	}
	return servers, nil
}

func (s *oauthServer) active(token string) (bool, error) {
	req, err := http.NewRequest(http.MethodPost, s.introspectURL, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s.user != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var out struct {
		Active bool `json:"active"`
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("introspection: %s", resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out.Active, err
}

func oauthWorkflows() ([]workflow, error) {
	if _, ok := env.connections["oauth"]; !ok {
		return nil, nil
	}
	var err error
	if env.oauth, err = demoOAuthServers(); err != nil {
		return nil, err
	}
	for _, key := range []string{"oauth", "nexus"} {
		if s := env.oauth[key]; s == nil || len(s.tokens) < 3 {
			return nil, fmt.Errorf("GET /v1/demo/tokens should list three %s token pairs: %+v", key, s)
		}
	}
	revoke := func(token, hint string) map[string]any {
		return map[string]any{"resource": "token", "operation": "revoke", "token": token, "tokenTypeHint": hint}
	}
	o, n := env.oauth["oauth"].tokens, env.oauth["nexus"].tokens
	return []workflow{
		chain("oaAccess", twOn("oauth", "Revoke Access Token", oauthType, revoke(o[0].access, "access_token"))),
		chain("oaRefresh", twOn("oauth", "Revoke Refresh Token", oauthType, revoke(o[1].refresh, ""))),
		chain("oaNexus", twOn("nexus", "Revoke at Nexus", oauthType, revoke(n[0].refresh, "refresh_token"))),
		chain("oaMissing", twOn("oauth", "Revoke Nothing", oauthType, revoke("={{ $json.nothing }}", ""))),
	}, nil
}

func skipWithoutOAuth(t *testing.T) {
	if env.oauth == nil {
		t.Skip("this sidecar's demo has no OAuth servers")
	}
}

func revokedToken(t *testing.T, r *run, node, dialect string) {
	t.Helper()
	mustSucceed(t, r)
	got := r.items(t, node)
	if len(got) != 1 {
		t.Fatalf("%s gave %d items, want 1", node, len(got))
	}
	j := got[0].JSON
	fp, _ := j["tokenFingerprint"].(string)
	if j["revoked"] != true || j["dialect"] != dialect || !strings.HasPrefix(fp, "sha256:") {
		t.Fatalf("item %v should name the revoked token by fingerprint and say the %s dialect", j, dialect)
	}
}

func TestOAuthRevokeAccessTokenRFC7009(t *testing.T) {
	skipWithoutOAuth(t)
	s := env.oauth["oauth"]
	// Another grant's access token, to show the revocation stays precise.
	otherBefore, err := s.active(s.tokens[1].access)
	if err != nil {
		t.Fatal(err)
	}
	r := execute(t, "oaAccess")
	revokedToken(t, r, "Revoke Access Token", "rfc7009")
	if active, err := s.active(s.tokens[0].access); err != nil || active {
		t.Fatalf("the server still reports the access token active (%v)", err)
	}
	if otherAfter, err := s.active(s.tokens[1].access); err != nil || otherBefore && !otherAfter {
		t.Fatalf("another grant's access token was active before and is not after (%v)", err)
	}
}

func TestOAuthRevokeRefreshTokenWithoutHint(t *testing.T) {
	skipWithoutOAuth(t)
	s := env.oauth["oauth"]
	r := execute(t, "oaRefresh")
	revokedToken(t, r, "Revoke Refresh Token", "rfc7009")
	if active, err := s.active(s.tokens[1].refresh); err != nil || active {
		t.Fatalf("the server still reports the refresh token active (%v)", err)
	}
}

func TestOAuthRevokeAtNexus(t *testing.T) {
	skipWithoutOAuth(t)
	s := env.oauth["nexus"]
	r := execute(t, "oaNexus")
	revokedToken(t, r, "Revoke at Nexus", "nexus")
	if active, err := s.active(s.tokens[0].refresh); err != nil || active {
		t.Fatalf("Nexus still reports the refresh token active (%v)", err)
	}
}

func TestOAuthMissingTokenIsANodeErrorNamingTheField(t *testing.T) {
	skipWithoutOAuth(t)
	r := execute(t, "oaMissing")
	e := r.Data.ResultData.Error
	if r.Status != "error" || e == nil || e.HTTPCode != "422" || !strings.HasPrefix(e.Message, "Token: ") || !strings.Contains(e.Description, "input.token") {
		t.Fatalf("status %s, error %+v: want a 422 naming the Token field, the sidecar's detail kept", r.Status, e)
	}
}
