package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/nexusemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/oauthdemo"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

type authServer struct {
	demo *oauthdemo.Demo
	url  string
	reg  *action.Registry
}

// newAuthServer runs the fosite demo server; lie makes its revocation
// endpoint answer 200 without revoking anything.
func newAuthServer(t *testing.T, lie bool) *authServer {
	t.Helper()
	d, err := oauthdemo.NewDemo(2)
	if err != nil {
		t.Fatal(err)
	}
	h := d.Handler()
	if lie {
		real := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == oauthdemo.RevokePath {
				w.WriteHeader(http.StatusOK)
				return
			}
			real.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	reg.CheckOutput = true
	return &authServer{demo: d, url: srv.URL, reg: reg}
}

func (a *authServer) issuerConn() map[string]any {
	return map[string]any{"issuer": a.url, "clientId": a.demo.ClientID, "clientSecret": a.demo.ClientSecret}
}

func call(t *testing.T, reg *action.Registry, id string, conn, input map[string]any) (map[string]any, *action.Problem) {
	t.Helper()
	c, _ := json.Marshal(conn)
	in, _ := json.Marshal(input)
	res, err := reg.Invoke(context.Background(), id, action.Envelope{Connection: c, Input: in})
	if err != nil {
		var p *action.Problem
		if !errors.As(err, &p) {
			t.Fatalf("%s: %v", id, err)
		}
		return nil, p
	}
	b, _ := json.Marshal(res.Data)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	if strings.Contains(string(b), input["token"].(string)) {
		t.Fatalf("%s echoed the token: %s", id, b)
	}
	return out, nil
}

func TestIntrospectBeforeAndAfterRevoking(t *testing.T) {
	a := newAuthServer(t, false)
	tok := a.demo.Tokens[0].AccessToken
	got, p := call(t, a.reg, "oauth.introspectToken", a.issuerConn(), map[string]any{"token": tok})
	if p != nil {
		t.Fatal(p)
	}
	if got["active"] != true || got["clientId"] != a.demo.ClientID || !strings.HasSuffix(got["endpoint"].(string), oauthdemo.IntrospectPath) {
		t.Fatalf("introspection of an active token: %v", got)
	}
	if _, p := call(t, a.reg, "oauth.revokeToken", a.issuerConn(), map[string]any{"token": tok}); p != nil {
		t.Fatal(p)
	}
	got, p = call(t, a.reg, "oauth.introspectToken", a.issuerConn(), map[string]any{"token": tok})
	if p != nil {
		t.Fatal(p)
	}
	if got["active"] != false || got["clientId"] != nil {
		t.Fatalf("introspection of a revoked token: %v", got)
	}
}

func TestRevokeDryRunAndVerify(t *testing.T) {
	a := newAuthServer(t, false)
	tok := a.demo.Tokens[0].AccessToken
	got, p := call(t, a.reg, "oauth.revokeToken", a.issuerConn(), map[string]any{"token": tok, "dryRun": true})
	if p != nil {
		t.Fatal(p)
	}
	if got["dryRun"] != true || got["revoked"] != false || got["wouldRevoke"] != true {
		t.Fatalf("dry run: %v", got)
	}
	if !a.demo.Active(context.Background(), tok) {
		t.Fatal("a dry run revoked the token")
	}
	got, p = call(t, a.reg, "oauth.revokeToken", a.issuerConn(), map[string]any{"token": tok, "verify": true})
	if p != nil {
		t.Fatal(p)
	}
	if v, _ := got["verification"].(map[string]any); got["verified"] != true || v["status"] != "verified" {
		t.Fatalf("verified revocation: %v", got)
	}
	if a.demo.Active(context.Background(), tok) {
		t.Fatal("verified, yet the server still accepts the token")
	}
	got, p = call(t, a.reg, "oauth.revokeToken", a.issuerConn(), map[string]any{"token": tok, "dryRun": true})
	if p != nil || got["wouldRevoke"] != false {
		t.Fatalf("dry run of a revoked token: %v %v", got, p)
	}
}

// The server answers 200 and revokes nothing (RFC 7009 even allows 200 for
// tokens it does not know): only introspection tells.
func TestVerifyCatchesARevocationThatDidNotTake(t *testing.T) {
	a := newAuthServer(t, true)
	tok := a.demo.Tokens[1].AccessToken
	if _, p := call(t, a.reg, "oauth.revokeToken", a.issuerConn(), map[string]any{"token": tok}); p != nil {
		t.Fatalf("without verify the 200 passes: %v", p)
	}
	_, p := call(t, a.reg, "oauth.revokeToken", a.issuerConn(), map[string]any{"token": tok, "verify": true})
	if p == nil || p.Kind() != action.KindUnverified {
		t.Fatalf("got %v, want revocation-unverified", p)
	}
	if b, _ := json.Marshal(p); strings.Contains(string(b), tok) || strings.Contains(string(b), a.demo.ClientSecret) {
		t.Fatalf("the problem holds a secret: %s", b)
	}
	if !a.demo.Active(context.Background(), tok) {
		t.Fatal("the lying server revoked after all; the test proves nothing")
	}
}

func TestWithoutIntrospectionTheAnswerSaysSo(t *testing.T) {
	a := newAuthServer(t, false)
	bare := map[string]any{"revocationUrl": a.url + oauthdemo.RevokePath, "clientId": a.demo.ClientID, "clientSecret": a.demo.ClientSecret}
	tok := a.demo.Tokens[0].AccessToken
	if _, p := call(t, a.reg, "oauth.introspectToken", bare, map[string]any{"token": tok}); p == nil || p.Kind() != action.KindInvalidInput || p.Errors[0].Field != "input.introspectionUrl" {
		t.Fatalf("introspection without an endpoint: %v", p)
	}
	got, p := call(t, a.reg, "oauth.revokeToken", bare, map[string]any{"token": tok, "dryRun": true})
	if p != nil || got["wouldRevoke"] != nil || !strings.Contains(got["detail"].(string), "cannot be told") {
		t.Fatalf("dry run without introspection: %v %v", got, p)
	}
	got, p = call(t, a.reg, "oauth.revokeToken", bare, map[string]any{"token": tok, "verify": true})
	if v, _ := got["verification"].(map[string]any); p != nil || got["verified"] != false || v["status"] != "unverifiable" {
		t.Fatalf("verify without introspection: %v %v", got, p)
	}
	// Given explicitly, the endpoint is used.
	tok = a.demo.Tokens[1].AccessToken
	got, p = call(t, a.reg, "oauth.revokeToken", bare, map[string]any{"token": tok, "verify": true, "introspectionUrl": a.url + oauthdemo.IntrospectPath})
	if p != nil || got["verified"] != true {
		t.Fatalf("verify with introspectionUrl: %v %v", got, p)
	}
}

func TestNexusHasNoDocumentedIntrospection(t *testing.T) {
	nx := nexusemu.New(nexusemu.Client{ID: "MyClient", Secret: "nexus-secret-1"})
	srv := httptest.NewServer(nx.Handler())
	t.Cleanup(srv.Close)
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	reg.CheckOutput = true
	conn := map[string]any{"dialect": "nexus", "baseUrl": srv.URL, "clientId": "MyClient", "clientSecret": "nexus-secret-1", "clientAuthMethod": "client_secret_post"}
	access, _ := nx.IssuePair("MyClient")
	got, p := call(t, reg, "oauth.revokeToken", conn, map[string]any{"token": access, "verify": true})
	v, _ := got["verification"].(map[string]any)
	if p != nil || got["revoked"] != true || v["status"] != "unverifiable" || !strings.Contains(v["detail"].(string), "Nexus documents no token introspection") {
		t.Fatalf("nexus verify: %v %v", got, p)
	}
	// The emulator's own introspection, named explicitly, verifies.
	access, _ = nx.IssuePair("MyClient")
	got, p = call(t, reg, "oauth.revokeToken", conn, map[string]any{"token": access, "verify": true, "introspectionUrl": srv.URL + nexusemu.IntrospectPath})
	if p != nil || got["verified"] != true {
		t.Fatalf("nexus verify through the emulator's introspection: %v %v", got, p)
	}
}
