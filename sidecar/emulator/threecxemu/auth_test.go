package threecxemu_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
)

func TestTokenEndpointIssuesBearerTokens(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	res := p.tokenRequest(p.credentialsForm())
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	body := res.json(t)
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) || body["access_token"] == "" {
		t.Fatalf("unexpected token response %s", res.body)
	}
	if v, ok := body["refresh_token"]; !ok || v != nil {
		t.Fatalf("refresh_token should be present and null: %s", res.body)
	}
	if res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token responses must not be cached, got Cache-Control %q", res.header.Get("Cache-Control"))
	}
	if p.emu.TokenRequests() != 1 {
		t.Fatalf("TokenRequests = %d, want 1", p.emu.TokenRequests())
	}
}

func TestTokenEndpointAcceptsMultipartForms(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	body, ct := multipartBody(t, p.credentialsForm())
	req := httptest.NewRequest(http.MethodPost, "/connect/token", body)
	req.Header.Set("Content-Type", ct)
	if res := serve(p.handler, req); res.status != http.StatusOK {
		t.Fatalf("multipart sign-in: %d %s", res.status, res.body)
	}
}

func TestExpiresInUnitFollowsPBXVersion(t *testing.T) {
	for _, c := range []struct {
		opts threecxemu.Options
		want float64
	}{
		{threecxemu.Options{TokenLifetime: 30 * time.Minute}, 1800},
		{threecxemu.Options{TokenLifetime: 30 * time.Minute, ExpiresInMinutes: true}, 30},
		{threecxemu.Options{ExpiresInMinutes: true}, 60},
	} {
		p := newPBX(t, c.opts)
		if got := p.tokenRequest(p.credentialsForm()).json(t)["expires_in"]; got != c.want {
			t.Errorf("%+v: expires_in = %v, want %v", c.opts, got, c.want)
		}
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	id, secret := p.emu.Credentials()
	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
		detail string
	}{
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret + "x"}}, 401, "invalid_client", ""},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"nobody"}, "client_secret": {secret}}, 401, "invalid_client", ""},
		{"principal without XAPI", url.Values{"grant_type": {"client_credentials"}, "client_id": {"legacy_fax"}, "client_secret": {"anything"}}, 401, "invalid_client", ""},
		{"wrong grant", url.Values{"grant_type": {"password"}, "client_id": {id}, "client_secret": {secret}}, 400, "unsupported_grant_type", "password"},
		{"everything missing", url.Values{}, 400, "invalid_request", "grant_type, client_id, client_secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := p.tokenRequest(c.form)
			if res.status != c.status {
				t.Fatalf("status %d, want %d: %s", res.status, c.status, res.body)
			}
			body := res.json(t)
			if body["error"] != c.code {
				t.Fatalf("error %v, want %s", body["error"], c.code)
			}
			desc, _ := body["error_description"].(string)
			if !strings.Contains(desc, c.detail) {
				t.Fatalf("error_description %q should mention %q", desc, c.detail)
			}
			if strings.Contains(string(res.body), secret) {
				t.Fatal("the error echoes the secret")
			}
		})
	}
	req := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader(`{"grant_type":"client_credentials"}`))
	req.Header.Set("Content-Type", "application/json")
	if res := serve(p.handler, req); res.status != http.StatusBadRequest || res.json(t)["error"] != "invalid_request" {
		t.Fatalf("JSON body: %d %s", res.status, res.body)
	}
	if got := p.emu.TokenRequests(); got != int64(len(cases)+1) {
		t.Fatalf("TokenRequests = %d, want every attempt counted (%d)", got, len(cases)+1)
	}
}

func TestXAPINeedsTheCurrentBearerToken(t *testing.T) {
	p := newPBX(t, threecxemu.Options{TokenLifetime: 10 * time.Minute})
	res := p.get("/xapi/v1/SecurityTokens")
	if res.status != http.StatusUnauthorized || len(res.body) != 0 || res.header.Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("no token: %d %q %q", res.status, res.header.Get("WWW-Authenticate"), res.body)
	}
	first := p.signIn()
	if res := p.get("/xapi/v1/SecurityTokens"); res.status != http.StatusOK {
		t.Fatalf("current token refused: %d", res.status)
	}

	// One active token per client: the second sign-in ends the first.
	second := p.signIn()
	if first == second {
		t.Fatal("a new sign-in returned the same token")
	}
	p.token = first
	res = p.get("/xapi/v1/SecurityTokens")
	if res.status != http.StatusUnauthorized || !strings.Contains(res.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("replaced token: %d %q", res.status, res.header.Get("WWW-Authenticate"))
	}
	p.token = second
	if res := p.get("/xapi/v1/MyTokens"); res.status != http.StatusOK {
		t.Fatalf("newest token refused: %d", res.status)
	}

	p.emu.InvalidateAccessTokens()
	if res := p.get("/xapi/v1/MyTokens"); res.status != http.StatusUnauthorized {
		t.Fatalf("after InvalidateAccessTokens: %d", res.status)
	}

	p.signIn()
	p.clock.Advance(10 * time.Minute)
	if res := p.get("/xapi/v1/MyTokens"); res.status != http.StatusUnauthorized {
		t.Fatalf("expired token accepted: %d", res.status)
	}
}

func TestConcurrentSignInsLeaveExactlyOneValidToken(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	const n = 16
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := p.tokenRequest(p.credentialsForm())
			if res.status == http.StatusOK {
				tokens[i] = res.json(t)["access_token"].(string)
			}
		})
	}
	wg.Wait()
	valid := 0
	for _, tok := range tokens {
		p.token = tok
		if p.get("/xapi/v1/MyTokens?$top=1").status == http.StatusOK {
			valid++
		}
	}
	if valid != 1 {
		t.Fatalf("%d tokens valid after %d concurrent sign-ins, want 1", valid, n)
	}
}
