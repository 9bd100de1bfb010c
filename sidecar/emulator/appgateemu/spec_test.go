package appgateemu

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/specguard"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testneed"
)

// guardedFixture serves the emulator through a guard that checks every
// exchange against Appgate's own OpenAPI (v23).
func guardedFixture(t *testing.T) (*fixture, *specguard.Guard) {
	t.Helper()
	path, err := specguard.VendorSpecPath("appgate-sdp-api-v23", "bundled.yaml")
	if err != nil {
		testneed.Missing(t, "Appgate's OpenAPI is not beside the repository, so conformance is unchecked: %v", err)
	}
	g, err := specguard.Load(path, "/admin", specguard.TolerateInvalidSpec())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Options{})
	f.srv.Close()
	f.srv = httptest.NewServer(g.Wrap(f.emu))
	t.Cleanup(f.srv.Close)
	return f, g
}

func TestAnswersFollowTheVendorSpec(t *testing.T) {
	f, g := guardedFixture(t)
	tok := f.adminToken()
	viewer := f.login(ViewerUsername, DemoPassword)
	one := f.emu.Devices()[0].DistinguishedName

	// Valid requests: neither side may deviate.
	f.call("GET", "/admin/on-boarded-devices", MediaType(23), tok, nil)
	f.call("GET", "/admin/on-boarded-devices?query=alice&query=laptop&range=0-5&orderBy=hostname&descending=true&providerName=ldap", MediaType(23), tok, nil)
	f.revoke(tok, map[string]any{"distinguishedNameFilter": "OU=ldap", "siteId": SiteAtlanta, "tokenType": "Claims",
		"revocationReason": "test", "delayMinutes": 1, "devicesPerSecond": 0.5})
	f.revoke(tok, map[string]any{"distinguishedNameFilter": "", "specificDistinguishedNames": []string{one}})
	f.revoke(tok, map[string]any{"distinguishedNameFilter": ""})
	f.call("POST", "/admin/login", MediaType(23), "", map[string]any{"providerName": "local", "username": "admin", "password": "wrong", "deviceId": testDeviceID})
	f.call("POST", "/admin/login", MediaType(5), "", map[string]any{"providerName": "local", "deviceId": testDeviceID})
	f.call("GET", "/admin/on-boarded-devices", MediaType(23), "expired-or-unknown", nil)
	f.call("POST", "/admin/on-boarded-devices/revoke-tokens", MediaType(23), viewer, map[string]any{"distinguishedNameFilter": "OU=okta"})
	f.call("GET", "/admin/version", "application/json", "", nil)
	if v := g.Violations(); len(v) > 0 {
		t.Fatalf("deviations from Appgate's OpenAPI:\n%s", strings.Join(v, "\n"))
	}

	// Invalid requests: the guard flags the request, but the answer must
	// still be one the spec documents.
	g.Reset()
	f.call("POST", "/admin/on-boarded-devices/revoke-tokens", MediaType(23), tok, map[string]any{"tokenType": "claims", "siteId": "x"})
	f.call("POST", "/admin/on-boarded-devices/revoke-tokens", MediaType(23), tok, `{"distinguishedNameFilter": 5}`)
	f.call("POST", "/admin/login", MediaType(23), "", map[string]any{"username": "admin"})
	for _, v := range g.Violations() {
		if !strings.Contains(v, ": request: ") {
			t.Errorf("answer deviates from Appgate's OpenAPI: %s", v)
		}
	}
}
