package threecxemu_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
)

func securityToken(t *testing.T, p *pbx, id int32) map[string]any {
	t.Helper()
	raw, ok := p.emu.SecurityToken(id)
	if !ok {
		t.Fatalf("SecurityToken(%d) not found", id)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRevokeSecurityToken(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	before := securityToken(t, p, 1)
	if before["Revoked"] != nil {
		t.Fatal("seed: token 1 should be active")
	}
	revokedBefore := p.emu.Revoked()
	res := p.do(http.MethodPost, "/xapi/v1/SecurityTokens(1)/Pbx.RevokeToken")
	if res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	after := securityToken(t, p, 1)
	if after["Revoked"] != p.clock.Now().Format(time.RFC3339) || after["ReasonRevoked"] != "Manual" || after["RevokedByIp"] != "192.0.2.1" {
		t.Fatalf("revoked token: Revoked=%v ReasonRevoked=%v RevokedByIp=%v", after["Revoked"], after["ReasonRevoked"], after["RevokedByIp"])
	}
	_, listed := p.list(tokensURL + "?$filter=Id%20eq%201")
	if listed[0]["Revoked"] != after["Revoked"] {
		t.Fatal("the collection does not show the revocation")
	}

	// A second revocation succeeds and keeps the first one's record.
	p.clock.Advance(30 * time.Minute)
	if res := p.do(http.MethodPost, "/xapi/v1/SecurityTokens(1)/Pbx.RevokeToken"); res.status != http.StatusNoContent {
		t.Fatalf("second revoke: %d", res.status)
	}
	if again := securityToken(t, p, 1); again["Revoked"] != after["Revoked"] {
		t.Fatalf("second revoke changed Revoked from %v to %v", after["Revoked"], again["Revoked"])
	}
	// The counters a fleet test reads: two calls answered, one token more revoked.
	if n, r := p.emu.RevokeRequests(), p.emu.Revoked(); n != 2 || r != revokedBefore+1 {
		t.Fatalf("RevokeRequests %d, Revoked %d (was %d): want 2 and one more", n, r, revokedBefore)
	}
	// An already revoked seed keeps its reason.
	p.do(http.MethodPost, "/xapi/v1/SecurityTokens(5)/Pbx.RevokeToken")
	if got := securityToken(t, p, 5)["ReasonRevoked"]; got != "Logout" {
		t.Fatalf("seeded revocation reason overwritten: %v", got)
	}
}

func TestRevokeMyTokenOnlyReachesOwnTokens(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	_, mine := p.list("/xapi/v1/MyTokens")
	id, _ := p.emu.Credentials()
	if len(mine) == 0 {
		t.Fatal("the seeded principal has no tokens")
	}
	for _, it := range mine {
		if it["Username"] != id {
			t.Fatalf("MyTokens returned another principal's token: %v", it)
		}
	}
	own := int(mine[0]["Id"].(float64))
	if res := p.do(http.MethodPost, "/xapi/v1/MyTokens("+itoa(own)+")/Pbx.RevokeToken"); res.status != http.StatusNoContent {
		t.Fatalf("revoke own: %d %s", res.status, res.body)
	}
	if securityToken(t, p, int32(own))["Revoked"] == nil {
		t.Fatal("own token not revoked")
	}
	res := p.do(http.MethodPost, "/xapi/v1/MyTokens(1)/Pbx.RevokeToken")
	if res.status != http.StatusNotFound {
		t.Fatalf("revoking a user's token through MyTokens: %d", res.status)
	}
	if securityToken(t, p, 1)["Revoked"] != nil {
		t.Fatal("a 404 revoked the token anyway")
	}
}

func TestUnknownAndMalformedKeys(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	cases := []struct {
		method, target string
		status         int
		message        string
	}{
		{http.MethodPost, "/xapi/v1/SecurityTokens(9999)/Pbx.RevokeToken", 404, "9999"},
		{http.MethodPost, "/xapi/v1/MyTokens(-4)/Pbx.RevokeToken", 404, "-4"},
		{http.MethodPost, "/xapi/v1/ServicePrincipals(9999)/Pbx.GenerateAppToken", 404, "9999"},
		{http.MethodGet, "/xapi/v1/ServicePrincipals(9999)", 404, "9999"},
		{http.MethodPost, "/xapi/v1/SecurityTokens(abc)/Pbx.RevokeToken", 400, "Edm.Int32"},
		{http.MethodPost, "/xapi/v1/SecurityTokens(2147483648)/Pbx.RevokeToken", 400, "Edm.Int32"},
		{http.MethodPost, "/xapi/v1/ServicePrincipals()/Pbx.GenerateAppToken", 400, "Edm.Int32"},
	}
	for _, c := range cases {
		send := p.do
		if c.status == 400 {
			send = p.raw // the spec's int32 path parameter rejects these keys itself
		}
		res := send(c.method, c.target)
		if res.status != c.status {
			t.Errorf("%s: status %d, want %d", c.target, res.status, c.status)
			continue
		}
		msg, details := vendorError(t, res)
		if len(details) != 1 || details[0]["target"] != "Id" || !strings.Contains(msg, c.message) {
			t.Errorf("%s: %s", c.target, res.body)
		}
	}
}

func TestGenerateAppTokenReplacesTheAPIKey(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	oldForm := p.credentialsForm()
	res := p.do(http.MethodPost, "/xapi/v1/ServicePrincipals(31)/Pbx.GenerateAppToken")
	if res.status != http.StatusOK {
		t.Fatalf("generate: %d %s", res.status, res.body)
	}
	key, _ := res.json(t)["value"].(string)
	if len(key) < 32 {
		t.Fatalf("generated key %q too short", key)
	}
	if _, secret := p.emu.Credentials(); secret != key {
		t.Fatal("Credentials does not return the new key")
	}
	if res := p.tokenRequest(oldForm); res.status != http.StatusUnauthorized {
		t.Fatalf("old key still signs in: %d", res.status)
	}
	if res := p.get("/xapi/v1/MyTokens"); res.status != http.StatusOK {
		t.Fatalf("the access token issued before should stay valid: %d", res.status)
	}
	p.signIn() // with the new key
	second := p.do(http.MethodPost, "/xapi/v1/ServicePrincipals(32)/Pbx.GenerateAppToken")
	if k2, _ := second.json(t)["value"].(string); k2 == "" || k2 == key {
		t.Fatalf("keys must be fresh each time: %q", k2)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"crm_sync"}, "client_secret": {second.json(t)["value"].(string)}}
	if res := p.tokenRequest(form); res.status != http.StatusOK {
		t.Fatalf("another principal's generated key does not sign in: %d", res.status)
	}
}

func TestSignInSetsLastUsed(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	start := p.clock.Now()
	p.clock.Advance(90 * time.Second)
	p.signIn()
	res := p.get("/xapi/v1/ServicePrincipals(31)?$select=Id,LastUsed")
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if got := res.json(t)["LastUsed"]; got != start.Add(90*time.Second).Format(time.RFC3339) {
		t.Fatalf("LastUsed = %v", got)
	}
}

func TestRoutingAnswersLikeThePBX(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	if res := p.raw(http.MethodGet, "/xapi/v1/Nothing"); res.status != http.StatusUnauthorized {
		t.Errorf("unknown XAPI path without a token: %d, want 401", res.status)
	}
	p.signIn()
	for _, target := range []string{"/xapi/v1/Nothing", "/xapi/v1/SecurityTokens(1)/Pbx.Explode", "/elsewhere"} {
		if res := p.raw(http.MethodGet, target); res.status != http.StatusNotFound {
			t.Errorf("%s: %d", target, res.status)
		}
	}
	res := p.raw(http.MethodDelete, "/xapi/v1/SecurityTokens")
	if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != http.MethodGet {
		t.Fatalf("DELETE collection: %d Allow=%q", res.status, res.header.Get("Allow"))
	}
	if res := p.raw(http.MethodGet, "/connect/token"); res.status != http.StatusMethodNotAllowed {
		t.Fatalf("GET /connect/token: %d", res.status)
	}
}
