//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Dry runs, verified revocations, introspection and the 3CX service
// principal and refresh token operations, through the nodes as a builder
// would chain them. 3CX nodes are version 3 (the service principal picker).

// lifecycleTokenPair is the OAuth demo pair no other flow touches: it is
// active until the lifecycle flow revokes it.
const lifecycleTokenPair = 3

func lifecycleWorkflows() []workflow {
	v := func(n wfNode, version float64) wfNode { n.TypeVersion = version; return n }
	picked := func(mode, value string) map[string]any {
		return map[string]any{"__rl": true, "mode": mode, "value": value}
	}
	self, _ := env.connections["threecx"]["clientId"].(string)
	wfs := []workflow{
		chain("lcTcxRevoke",
			tw("Find Token", threeCxType, map[string]any{
				"resource": "securityToken", "operation": "list", "limit": 1,
				"options": map[string]any{"filter": "Revoked eq null and Id lt 31", "orderBy": "Id desc", "select": "Id,Revoked"},
			}),
			v(tw("Dry Run Revoke", threeCxType, map[string]any{
				"resource": "securityToken", "operation": "revoke", "id": picked("id", "={{ $json.Id }}"), "dryRun": true,
			}), 3),
			tw("Still Listed", threeCxType, map[string]any{
				"resource": "securityToken", "operation": "list",
				"options": map[string]any{"filter": "={{ 'Id eq ' + $json.id }}", "select": "Id,Revoked"},
			}),
			v(tw("Revoke Verified", threeCxType, map[string]any{
				"resource": "securityToken", "operation": "revoke", "id": picked("id", "={{ $json.Id }}"), "verify": true,
			}), 3),
		),
		// A rotation as a flow would run it: find the integration, give it a
		// new app token, then revoke one of the sidecar's own refresh tokens.
		// The sidecar's own principal is left alone: a new key for it would
		// end the demo's sign-in for every other test.
		chain("lcTcxRotate",
			tw("List Service Principals", threeCxType, map[string]any{
				"resource": "servicePrincipal", "operation": "list", "limit": 1,
				"options": map[string]any{"filter": "Number ne '" + self + "'", "orderBy": "Id"},
			}),
			v(tw("Generate App Token", threeCxType, map[string]any{
				"resource": "servicePrincipal", "operation": "generateAppToken", "id": picked("list", "={{ $json.Id }}"),
			}), 3),
			tw("List Refresh Tokens", threeCxType, map[string]any{
				"resource": "refreshToken", "operation": "list", "limit": 1,
				"options": map[string]any{"filter": "Revoked eq null", "orderBy": "Id"},
			}),
			v(tw("Revoke Refresh Token", threeCxType, map[string]any{
				"resource": "refreshToken", "operation": "revoke", "id": picked("list", "={{ $json.Id }}"), "verify": true,
			}), 3),
		),
	}
	if _, ok := env.connections["appgate"]; ok {
		wfs = append(wfs, chain("lcAgDryRun", v(tw("Dry Run Revoke", appgateType, map[string]any{
			"resource": "device", "operation": "revokeTokens",
			"distinguishedNameFilter": picked("filter", "OU=ldap"), "dryRun": true,
		}), 2)))
	}
	if s := env.oauth["oauth"]; s != nil && len(s.tokens) > lifecycleTokenPair {
		token := s.tokens[lifecycleTokenPair].access
		wfs = append(wfs, chain("lcOAuth",
			twOn("oauth", "Introspect Active", oauthType, map[string]any{"resource": "token", "operation": "introspect", "token": token}),
			twOn("oauth", "Revoke Verified", oauthType, map[string]any{
				"resource": "token", "operation": "revoke", "token": token, "tokenTypeHint": "access_token", "verify": true,
			}),
			twOn("oauth", "Introspect Revoked", oauthType, map[string]any{"resource": "token", "operation": "introspect", "token": token}),
		))
	}
	return wfs
}

// one reads the single item a node gave and checks it points at its input.
func one(t *testing.T, r *run, node string) map[string]any {
	t.Helper()
	got := r.items(t, node)
	if len(got) != 1 {
		t.Fatalf("%s gave %d items, want 1: %+v", node, len(got), got)
	}
	if p, _ := got[0].PairedItem.(map[string]any); p == nil || p["item"] != float64(0) {
		t.Errorf("%s: pairedItem %v, want item 0", node, got[0].PairedItem)
	}
	return got[0].JSON
}

// sidecarAction calls an action on the demo sidecar directly (not through
// n8n), to check what a flow did from outside it.
func sidecarAction(t *testing.T, id, connection string, input map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"connection": env.connections[connection], "input": input})
	resp, err := http.Post(env.sidecarURL+"/v1/actions/"+id, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s %v %v", id, resp.Status, out, err)
	}
	return out
}

func TestLifecycleThreeCxDryRunThenVerifiedRevoke(t *testing.T) {
	r := execute(t, "lcTcxRevoke")
	mustSucceed(t, r)
	id := one(t, r, "Find Token")["Id"]
	dry := one(t, r, "Dry Run Revoke")
	token, _ := dry["token"].(map[string]any)
	if dry["dryRun"] != true || dry["revoked"] != false || dry["wouldRevoke"] != true || dry["id"] != id || token["Revoked"] != nil {
		t.Fatalf("dry run of token %v: %v, want dryRun, not revoked, wouldRevoke and the token as listed", id, dry)
	}
	if still := one(t, r, "Still Listed"); still["Id"] != id || still["Revoked"] != nil {
		t.Fatalf("after the dry run the PBX lists %v, want token %v unrevoked", still, id)
	}
	done := one(t, r, "Revoke Verified")
	verification, _ := done["verification"].(map[string]any)
	evidence, _ := verification["evidence"].(map[string]any)
	if done["revoked"] != true || done["verified"] != true || verification["status"] != "verified" || evidence["Revoked"] == nil {
		t.Fatalf("revoke with Verify: %v, want verified with the Revoked time as evidence", done)
	}
	list := sidecarAction(t, "threecx.listSecurityTokens", "threecx", map[string]any{"filter": fmt.Sprintf("Id eq %v", id), "select": "Id,Revoked"})
	if data, _ := list["data"].([]any); len(data) != 1 || data[0].(map[string]any)["Revoked"] == nil {
		t.Fatalf("the PBX lists token %v as %v after the verified revocation", id, list["data"])
	}
}

func TestLifecycleThreeCxServicePrincipalAndRefreshToken(t *testing.T) {
	r := execute(t, "lcTcxRotate")
	mustSucceed(t, r)
	principal := one(t, r, "List Service Principals")
	self, _ := env.connections["threecx"]["clientId"].(string)
	if principal["Id"] == nil || principal["Number"] == self {
		t.Fatalf("listed %v, want another integration than the sidecar's own", principal)
	}
	gen := one(t, r, "Generate App Token")
	key, _ := gen["appToken"].(string)
	if gen["resource"] != "ServicePrincipal" || gen["id"] != principal["Id"] || len(key) < 16 {
		t.Fatalf("generate for the picked principal %v: %v", principal["Id"], gen)
	}
	mine := one(t, r, "List Refresh Tokens")
	done := one(t, r, "Revoke Refresh Token")
	if done["resource"] != "RefreshToken" || done["id"] != mine["Id"] || done["revoked"] != true || done["verified"] != true {
		t.Fatalf("revoke of own refresh token %v with Verify: %v", mine["Id"], done)
	}
	list := sidecarAction(t, "threecx.listRefreshTokens", "threecx", map[string]any{"filter": fmt.Sprintf("Id eq %v", mine["Id"]), "select": "Id,Revoked"})
	if data, _ := list["data"].([]any); len(data) != 1 || data[0].(map[string]any)["Revoked"] == nil {
		t.Fatalf("the PBX lists refresh token %v as %v after the revocation", mine["Id"], list["data"])
	}
}

func TestLifecycleAppgateDryRunRevokesNothing(t *testing.T) {
	skipWithoutAppgate(t)
	devices, err := appgateDevices()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, d := range devices {
		if strings.HasSuffix(d.DistinguishedName, ",OU=ldap") {
			want[d.DistinguishedName] = true
		}
	}
	revocations := func() float64 {
		var stats map[string]map[string]float64
		if err := getJSON("/v1/demo/stats", &stats); err != nil {
			t.Fatal(err)
		}
		return stats["appgate"]["revocations"]
	}
	before := revocations()
	r := execute(t, "lcAgDryRun")
	mustSucceed(t, r)
	dns := revokedDevices(t, r, "Dry Run Revoke")
	if got := one(t, r, "Dry Run Revoke"); got["dryRun"] != true {
		t.Errorf("item %v should say dryRun", got)
	}
	if len(dns) == 0 || len(dns) != len(want) {
		t.Fatalf("the dry run lists %d devices, the controller has %d under OU=ldap: %v", len(dns), len(want), dns)
	}
	for _, dn := range dns {
		if !want[dn] {
			t.Errorf("the dry run lists %s, not an ldap device", dn)
		}
	}
	if after := revocations(); after != before {
		t.Fatalf("the controller counted %v revocations before the dry run and %v after", before, after)
	}
}

func TestLifecycleOAuthIntrospectionOfARevokedToken(t *testing.T) {
	skipWithoutOAuth(t)
	r := execute(t, "lcOAuth")
	mustSucceed(t, r)
	token := env.oauth["oauth"].tokens[lifecycleTokenPair].access
	before := one(t, r, "Introspect Active")
	fp, _ := before["tokenFingerprint"].(string)
	if before["active"] != true || !strings.HasPrefix(fp, "sha256:") {
		t.Fatalf("introspection before the revocation: %v, want active and the token's fingerprint", before)
	}
	if done := one(t, r, "Revoke Verified"); done["revoked"] != true || done["verified"] != true {
		t.Fatalf("revoke with Verify: %v", done)
	}
	after := one(t, r, "Introspect Revoked")
	if after["active"] != false || after["tokenFingerprint"] != fp {
		t.Fatalf("introspection of the revoked token: %v, want active false", after)
	}
	for _, item := range []map[string]any{before, after} {
		if b, _ := json.Marshal(item); strings.Contains(string(b), token) {
			t.Errorf("item %s holds the token itself; it must name it by fingerprint only", b)
		}
	}
	if active, err := env.oauth["oauth"].active(token); err != nil || active {
		t.Fatalf("the server still reports the token active (%v)", err)
	}
}
