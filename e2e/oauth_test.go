//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The demo prints the tokens its OAuth servers issued at start, and how to
// ask each server whether a token is still active. The tests read them
// from the banner, as a user would copy them.

type tokenPair struct{ access, refresh string }

type oauthServer struct {
	tokens        []tokenPair
	introspectURL string
	user, pass    string // Basic credentials for introspection, if any
}

var (
	pairLine       = regexp.MustCompile(`^\s+access (\S+)\s+refresh (\S+)\s*$`)
	introspectLine = regexp.MustCompile(`curl -s (?:-u (\S+):(\S+) )?-d token=\S+ (\S+)`)
)

// demoOAuthServers reads the banner: each server's section starts with a
// line naming it and ending in "demo tokens:".
func demoOAuthServers(banner string) map[string]*oauthServer {
	servers := map[string]*oauthServer{}
	var cur *oauthServer
	for _, line := range strings.Split(banner, "\n") {
		switch {
		case strings.HasSuffix(line, "demo tokens:"):
			key := "oauth"
			if strings.Contains(line, "Nexus") {
				key = "nexus"
			}
			cur = &oauthServer{}
			servers[key] = cur
		case cur == nil:
		case pairLine.MatchString(line):
			m := pairLine.FindStringSubmatch(line)
			cur.tokens = append(cur.tokens, tokenPair{m[1], m[2]})
		case introspectLine.MatchString(line):
			m := introspectLine.FindStringSubmatch(line)
			cur.user, cur.pass, cur.introspectURL = m[1], m[2], m[3]
			cur = nil
		}
	}
	return servers
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
	banner, err := os.ReadFile(env.sidecarLog)
	if err != nil {
		return nil, err
	}
	env.oauth = demoOAuthServers(string(banner))
	for _, key := range []string{"oauth", "nexus"} {
		if s := env.oauth[key]; s == nil || len(s.tokens) < 3 || s.introspectURL == "" {
			return nil, fmt.Errorf("the demo banner should list three %s token pairs and an introspection command: %+v", key, s)
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
