package appgate

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/appgateemu"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/specguard"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testneed"
	"github.com/tokenwarden/tokenwarden/sidecar/secret"
)

// TestRequestsFollowTheVendorSpec runs every kind of call the client makes
// through a guard holding Appgate's own OpenAPI (v23): the version probe,
// the sign-in, both device calls with every option, and a refused sign-in.
func TestRequestsFollowTheVendorSpec(t *testing.T) {
	path, err := specguard.VendorSpecPath("appgate-sdp-api-v23", "bundled.yaml")
	if err != nil {
		testneed.Missing(t, "Appgate's OpenAPI is not beside the repository, so conformance is unchecked: %v", err)
	}
	g, err := specguard.Load(path, "/admin", specguard.TolerateInvalidSpec())
	if err != nil {
		t.Fatal(err)
	}
	ctl := newController(t, appgateemu.Options{})
	srv := httptest.NewServer(g.Wrap(ctl.emu))
	t.Cleanup(srv.Close)
	conn := ctl.connection()
	conn.BaseURL = srv.URL + "/admin"
	c := newClient(t, conn, ctl.clock.Now, nil)
	ctx := context.Background()

	desc := false
	if _, err := c.ListDevices(ctx, ListQuery{Query: "alice", Range: "0-10", OrderBy: "lastSeenAt", Descending: &desc,
		FilterBy: map[string]string{"providerName": "ldap", "hostname": "corp"}}); err != nil {
		t.Fatal(err)
	}
	delay, rate := 0, 10.0
	if _, err := c.RevokeTokens(ctx, RevokeRequest{DistinguishedNameFilter: "", SpecificDistinguishedNames: []string{ctl.emu.Devices()[0].DistinguishedName},
		SiteID: appgateemu.SiteStockholm, TokenType: "Entitlement", RevocationReason: "spec check", DelayMinutes: &delay, DevicesPerSecond: &rate}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeTokens(ctx, RevokeRequest{DistinguishedNameFilter: "OU=okta"}); err != nil {
		t.Fatal(err)
	}
	conn.Password = secret.Value("wrong-password-for-spec-check")
	if _, err := newClient(t, conn, ctl.clock.Now, nil).ListDevices(ctx, ListQuery{}); err == nil {
		t.Fatal("a wrong password signed in")
	}
	if v := g.Violations(); len(v) > 0 {
		t.Fatalf("deviations from Appgate's OpenAPI:\n%s", strings.Join(v, "\n"))
	}
	if ctl.emu.Negotiations() != 1 {
		t.Fatalf("the version probe did not run: %d negotiations", ctl.emu.Negotiations())
	}
}
