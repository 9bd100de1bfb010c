package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/oauthdemo"
	"github.com/tokenwarden/tokenwarden/sidecar/secret"
)

// vendorServer is the fosite demo server in one vendor's mode, over TLS as
// the presets' https:// endpoints need, with one client registered the way
// that vendor's clients authenticate.
type vendorServer struct {
	*oauthdemo.Server
	srv    *httptest.Server
	client oauthdemo.Client
}

func startVendor(t *testing.T, vendor, authMethod string) *vendorServer {
	t.Helper()
	c := oauthdemo.Client{ID: "app", Secret: "app-secret", AuthMethod: authMethod}
	s, err := oauthdemo.New(oauthdemo.Config{Clients: []oauthdemo.Client{c}, Users: map[string]string{"alice": "wonderland"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(s.VendorHandler(vendor))
	t.Cleanup(srv.Close)
	return &vendorServer{Server: s, srv: srv, client: c}
}

func (v *vendorServer) domain() string { return strings.TrimPrefix(v.srv.URL, "https://") }

func (v *vendorServer) pair(t *testing.T) oauthdemo.Tokens {
	t.Helper()
	tok, err := v.IssueTokens("app", "alice", "wonderland")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (v *vendorServer) active(tok string) bool { return v.Active(context.Background(), tok) }

func (v *vendorServer) revoke(t *testing.T, conn Connection, token, hint string) (*Outcome, error) {
	t.Helper()
	return NewClient(conn, v.srv.Client(), Options{}).RevokeToken(context.Background(), Request{Token: token, TokenTypeHint: hint}, false)
}

func (v *vendorServer) must(t *testing.T, conn Connection, token, hint string) *Outcome {
	t.Helper()
	out, err := v.revoke(t, conn, token, hint)
	if err != nil {
		t.Fatalf("revocation failed: %v", err)
	}
	if !out.Revoked || !strings.HasPrefix(out.TokenFingerprint, "sha256:") {
		t.Fatalf("outcome %+v", out)
	}
	return out
}

// Every preset builds its endpoint from the few fields it needs.
func TestPresetsBuildTheirEndpoints(t *testing.T) {
	for _, tc := range []struct {
		conn Connection
		want string
	}{
		{Connection{Preset: PresetGoogle}, "https://oauth2.googleapis.com/revoke"},
		{Connection{Preset: PresetOkta, Domain: "example.okta.com"}, "https://example.okta.com/oauth2/v1/revoke"},
		{Connection{Preset: PresetOkta, Domain: "example.okta.com", AuthorizationServerID: "default"}, "https://example.okta.com/oauth2/default/v1/revoke"},
		{Connection{Preset: PresetAuth0, Domain: "example.us.auth0.com"}, "https://example.us.auth0.com/oauth/revoke"},
		{Connection{Preset: PresetKeycloak, BaseURL: "https://sso.example.com/auth/", Realm: "staff"}, "https://sso.example.com/auth/realms/staff/protocol/openid-connect/revoke"},
		{Connection{Preset: PresetSalesforce, Domain: "example.my.salesforce.com"}, "https://example.my.salesforce.com/services/oauth2/revoke"},
		{Connection{Preset: PresetGitHub, ClientID: "Iv1.abc"}, "https://api.github.com/applications/Iv1.abc/token"},
		{Connection{Preset: PresetGitHub, ClientID: "Iv1.abc", BaseURL: "https://ghe.example.com/api/v3"}, "https://ghe.example.com/api/v3/applications/Iv1.abc/token"},
		{Connection{Preset: PresetSlack}, "https://slack.com/api/auth.revoke"},
		{Connection{Dialect: DialectNexus, BaseURL: "https://nexus.example.com"}, "https://nexus.example.com" + NexusRevokePath},
		{Connection{Preset: PresetOkta, Domain: "example.okta.com", RevocationURL: "https://proxy.example.com/revoke"}, "https://proxy.example.com/revoke"},
	} {
		if got := tc.conn.withDefaults().fixedEndpoint(); got != tc.want {
			t.Errorf("%s: endpoint %q, want %q", tc.conn.presetOf(), got, tc.want)
		}
	}
	defaults := map[string]string{PresetGoogle: AuthNone, PresetAuth0: AuthClientSecretPost, PresetOkta: AuthClientSecretBasic,
		PresetKeycloak: AuthClientSecretBasic, PresetSalesforce: AuthNone, PresetRFC7009: AuthClientSecretBasic}
	for p, want := range defaults {
		if got := (Connection{Preset: p}).withDefaults().ClientAuthMethod; got != want {
			t.Errorf("%s authenticates with %s by default, want %s", p, got, want)
		}
	}
}

// Google: no client authentication; revoking the access token revokes the
// grant; a second revocation's 400 invalid_token is "already gone"; the
// hint is not sent.
func TestGooglePresetReadsInvalidTokenAsAlreadyGone(t *testing.T) {
	v := startVendor(t, "google", "client_secret_basic")
	conn := Connection{Preset: PresetGoogle, RevocationURL: v.srv.URL + oauthdemo.VendorPath("google")}
	tok := v.pair(t)
	out := v.must(t, conn, tok.AccessToken, HintAccessToken)
	if v.active(tok.AccessToken) || v.active(tok.RefreshToken) {
		t.Error("Google mode: the grant survived revoking its access token")
	}
	if out.TokenTypeHint != "" || !strings.Contains(out.Note, "no token type hint") || !strings.Contains(out.Note, "whole grant") || out.UpstreamStatus != 200 {
		t.Errorf("first revocation %+v", out)
	}
	again := v.must(t, conn, tok.AccessToken, "")
	if again.UpstreamStatus != http.StatusBadRequest || !strings.Contains(again.Note, "already expired or been revoked") {
		t.Errorf("second revocation %+v", again)
	}
}

// Okta: the client authenticates; revoking an access token leaves its
// refresh token working, and the note says so; a custom authorization
// server is reached through its id.
func TestOktaPresetSaysTheRefreshTokenSurvivesAnAccessTokenRevocation(t *testing.T) {
	v := startVendor(t, "okta-custom", "client_secret_basic")
	conn := Connection{Preset: PresetOkta, Domain: v.domain(), AuthorizationServerID: "aus7xdefault", ClientID: "app", ClientSecret: secret.Value("app-secret")}
	tok := v.pair(t)
	out := v.must(t, conn, tok.AccessToken, HintAccessToken)
	if v.active(tok.AccessToken) || !v.active(tok.RefreshToken) {
		t.Error("Okta mode: want the access token revoked and the refresh token alive")
	}
	if !strings.Contains(out.Note, "refresh token issued with it still works") || out.Endpoint != v.srv.URL+"/oauth2/aus7xdefault/v1/revoke" {
		t.Errorf("outcome %+v", out)
	}
	out = v.must(t, conn, tok.RefreshToken, HintRefreshToken)
	if v.active(tok.RefreshToken) || out.Note != "" {
		t.Errorf("refresh revocation %+v, still active %v", out, v.active(tok.RefreshToken))
	}
	if _, err := v.revoke(t, Connection{Preset: PresetOkta, Domain: v.domain(), AuthorizationServerID: "aus7xdefault", ClientID: "app", ClientSecret: secret.Value("wrong")}, tok.AccessToken, ""); err == nil {
		t.Error("Okta mode accepted a wrong client secret")
	}
}

// Auth0: client_id and secret in the body; an access token hint is refused
// before anything is sent (Auth0 would answer 200 and revoke nothing); a
// refresh token is revoked, its access token is not, and the note says so.
func TestAuth0PresetRefusesAccessTokensAndRevokesRefreshTokens(t *testing.T) {
	v := startVendor(t, "auth0", "client_secret_post")
	conn := Connection{Preset: PresetAuth0, Domain: v.domain(), ClientID: "app", ClientSecret: secret.Value("app-secret")}
	tok := v.pair(t)
	_, err := v.revoke(t, conn, tok.AccessToken, HintAccessToken)
	p := problemOf(t, err, action.KindInvalidInput)
	if len(p.Errors) != 1 || p.Errors[0].Field != "input.tokenTypeHint" || !strings.Contains(p.Errors[0].Message, "refresh tokens only") {
		t.Errorf("problem %+v", p.Errors)
	}
	out := v.must(t, conn, tok.RefreshToken, HintRefreshToken)
	if v.active(tok.RefreshToken) || !v.active(tok.AccessToken) {
		t.Error("Auth0 mode: want the refresh token revoked and the JWT access token alive")
	}
	if !strings.Contains(out.Note, "refresh tokens only") || !strings.Contains(out.Note, "no token type hint") || out.TokenTypeHint != "" {
		t.Errorf("outcome %+v", out)
	}
}

// Keycloak: an access token is answered unsupported_token_type, which becomes
// a problem saying to revoke the refresh token; that one ends the session.
func TestKeycloakPresetExplainsUnsupportedTokenType(t *testing.T) {
	v := startVendor(t, "keycloak", "client_secret_basic")
	conn := Connection{Preset: PresetKeycloak, BaseURL: v.srv.URL, Realm: "staff", ClientID: "app", ClientSecret: secret.Value("app-secret")}
	tok := v.pair(t)
	_, err := v.revoke(t, conn, tok.AccessToken, HintAccessToken)
	p := problemOf(t, err, action.KindUpstreamRejected)
	if !strings.Contains(p.Detail, "revokes refresh and offline tokens only") || p.Upstream == nil || p.Upstream.Code != "unsupported_token_type" {
		t.Errorf("problem %+v", p)
	}
	if !v.active(tok.AccessToken) {
		t.Fatal("the refused access token was revoked")
	}
	out := v.must(t, conn, tok.RefreshToken, "")
	if v.active(tok.RefreshToken) || v.active(tok.AccessToken) || out.Endpoint != v.srv.URL+"/realms/staff/protocol/openid-connect/revoke" {
		t.Errorf("refresh revocation %+v: refresh active %v, access active %v", out, v.active(tok.RefreshToken), v.active(tok.AccessToken))
	}
}

// Salesforce: no client authentication; an access token goes alone, a
// refresh token takes its access tokens; invalid_token is already gone and
// unsupported_token_type a problem.
func TestSalesforcePresetReadsItsTwoErrors(t *testing.T) {
	v := startVendor(t, "salesforce", "client_secret_basic")
	conn := Connection{Preset: PresetSalesforce, Domain: v.domain()}
	tok := v.pair(t)
	v.must(t, conn, tok.AccessToken, "")
	if v.active(tok.AccessToken) || !v.active(tok.RefreshToken) {
		t.Error("Salesforce mode: want only the access token revoked")
	}
	gone := v.must(t, conn, tok.AccessToken, "")
	if gone.UpstreamStatus != 400 || !strings.Contains(gone.Note, "Salesforce answered invalid_token") {
		t.Errorf("already revoked: %+v", gone)
	}
	tok = v.pair(t)
	v.must(t, conn, tok.RefreshToken, HintRefreshToken)
	if v.active(tok.RefreshToken) || v.active(tok.AccessToken) {
		t.Error("Salesforce mode: revoking the refresh token left a token active")
	}

	// The demo server has no token Salesforce would call unsupported; a
	// server answering as Salesforce documents it shows the mapping.
	unsupported := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"unsupported_token_type","error_description":"this token type is not supported"}`))
	}))
	defer unsupported.Close()
	_, err := NewClient(Connection{Preset: PresetSalesforce, Domain: strings.TrimPrefix(unsupported.URL, "https://")}, unsupported.Client(), Options{}).
		RevokeToken(context.Background(), Request{Token: "00Dxx!AQ4AQ"}, false)
	p := problemOf(t, err, action.KindUpstreamRejected)
	if !strings.Contains(p.Detail, "revoke the refresh token") {
		t.Errorf("problem %+v", p)
	}
}

// Generic RFC 7009 keeps its behaviour: 400 invalid_token is a failure there,
// since the RFC answers 200 for tokens that are gone.
func TestRFC7009PresetDoesNotReadInvalidTokenAsGone(t *testing.T) {
	v := startVendor(t, "google", "client_secret_basic")
	_, err := v.revoke(t, Connection{RevocationURL: v.srv.URL + "/revoke", ClientAuthMethod: AuthNone}, "never-issued", "")
	if p := problemOf(t, err, action.KindUpstreamRejected); p.Upstream.Code != "invalid_token" {
		t.Errorf("problem %+v", p)
	}
}

func TestDryRunIsRefusedWhereTheAPIHasNone(t *testing.T) {
	for _, conn := range []Connection{{Preset: PresetOkta, Domain: "example.okta.com", ClientID: "a"}, {Preset: PresetKeycloak, BaseURL: "https://sso.example.com", Realm: "r", ClientID: "a"}, {ClientID: "a", RevocationURL: "https://a.example/revoke"}} {
		_, err := NewClient(conn, http.DefaultClient, Options{}).RevokeToken(context.Background(), Request{Token: "t"}, true)
		p := problemOf(t, err, action.KindInvalidInput)
		if p.Errors[0].Field != "input.dryRun" {
			t.Errorf("%s: %+v", conn.Preset, p.Errors)
		}
	}
}
