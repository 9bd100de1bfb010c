package threecx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
	"github.com/tokenwarden/tokenwarden/sidecar/provider/threecx"
)

// lyingPBX answers every Pbx.RevokeToken with 204 and revokes nothing, as a
// PBX behind a broken proxy or with a bug would: only verification can
// tell.
func lyingPBX(t *testing.T) *pbx {
	t.Helper()
	p := newPBX(t, threecxemu.Options{Now: testclock.New().Now})
	lie := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Pbx.RevokeToken") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		p.emu.ServeHTTP(w, r)
	}))
	t.Cleanup(lie.Close)
	p.srv = lie
	return p
}

func data(t *testing.T, res action.Result) map[string]any {
	t.Helper()
	b, _ := json.Marshal(res.Data)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("data is not an object: %s", b)
	}
	return out
}

// activeToken returns the id of a token not yet revoked in collection's list action.
func activeToken(t *testing.T, p *pbx, list string) int {
	t.Helper()
	res, prob := p.call(t, list, `{"filter": "Revoked eq null", "top": 1}`)
	if prob != nil {
		t.Fatal(prob)
	}
	got := items(t, res)
	if len(got) != 1 {
		t.Fatalf("%s lists no active token", list)
	}
	return int(got[0]["Id"].(float64))
}

func revokedAt(t *testing.T, p *pbx, id int) any {
	t.Helper()
	raw, ok := p.emu.SecurityToken(int32(id))
	if !ok {
		t.Fatalf("token %d gone", id)
	}
	var tok map[string]any
	_ = json.Unmarshal(raw, &tok)
	return tok["Revoked"]
}

func TestRevocationDryRunChangesNothing(t *testing.T) {
	for _, c := range []struct{ revoke, list string }{
		{"threecx.revokeSecurityToken", "threecx.listSecurityTokens"},
		{"threecx.revokeRefreshToken", "threecx.listRefreshTokens"},
	} {
		t.Run(c.revoke, func(t *testing.T) {
			p := newPBX(t, threecxemu.Options{Now: testclock.New().Now})
			id := activeToken(t, p, c.list)
			res, prob := p.call(t, c.revoke, `{"id": `+itoa(id)+`, "dryRun": true}`)
			if prob != nil {
				t.Fatal(prob)
			}
			d := data(t, res)
			if d["dryRun"] != true || d["revoked"] != false || d["wouldRevoke"] != true {
				t.Fatalf("dry run answered %v", d)
			}
			if tok, _ := d["token"].(map[string]any); tok == nil || int(tok["Id"].(float64)) != id {
				t.Fatalf("dry run does not show the token: %v", d)
			}
			if at := revokedAt(t, p, id); at != nil {
				t.Fatalf("a dry run revoked token %d at %v", id, at)
			}
			if _, prob := p.call(t, c.revoke, `{"id": 999999, "dryRun": true}`); prob == nil || prob.Kind() != action.KindUpstreamNotFound {
				t.Fatalf("dry run of a token that does not exist: %v, want upstream-not-found", prob)
			}
		})
	}
}

func TestRevocationVerified(t *testing.T) {
	for _, c := range []struct{ revoke, list string }{
		{"threecx.revokeSecurityToken", "threecx.listSecurityTokens"},
		{"threecx.revokeRefreshToken", "threecx.listRefreshTokens"},
	} {
		t.Run(c.revoke, func(t *testing.T) {
			p := newPBX(t, threecxemu.Options{Now: testclock.New().Now})
			id := activeToken(t, p, c.list)
			res, prob := p.call(t, c.revoke, `{"id": `+itoa(id)+`, "verify": true}`)
			if prob != nil {
				t.Fatal(prob)
			}
			d := data(t, res)
			v, _ := d["verification"].(map[string]any)
			if d["revoked"] != true || d["verified"] != true || v["status"] != "verified" {
				t.Fatalf("verified revocation answered %v", d)
			}
			at := revokedAt(t, p, id)
			if at == nil || v["evidence"].(map[string]any)["Revoked"] != at {
				t.Fatalf("evidence %v, the PBX says Revoked %v", v["evidence"], at)
			}
		})
	}
}

func TestRevocationThatDidNotTakeFailsVerification(t *testing.T) {
	p := lyingPBX(t)
	id := activeToken(t, p, "threecx.listSecurityTokens")
	// Without verify the lie goes unnoticed: that is what verify is for.
	if _, prob := p.call(t, "threecx.revokeSecurityToken", `{"id": `+itoa(id)+`}`); prob != nil {
		t.Fatal(prob)
	}
	_, prob := p.call(t, "threecx.revokeSecurityToken", `{"id": `+itoa(id)+`, "verify": true}`)
	if prob == nil || prob.Kind() != action.KindUnverified || prob.Status != http.StatusBadGateway {
		t.Fatalf("got %v, want revocation-unverified", prob)
	}
	if part, _ := prob.Partial.(map[string]any); part["verified"] != false || part["evidence"] == nil {
		t.Fatalf("partial %v lacks the evidence", prob.Partial)
	}
	if revokedAt(t, p, id) != nil {
		t.Fatal("the lying PBX revoked after all; the test proves nothing")
	}
}

func TestGenerateAppTokenDryRun(t *testing.T) {
	p := newPBX(t, threecxemu.Options{Now: testclock.New().Now})
	res, prob := p.call(t, "threecx.listServicePrincipals", `{"filter": "XAPIEnabled eq true", "count": true}`)
	if prob != nil {
		t.Fatal(prob)
	}
	principals := items(t, res)
	if len(principals) == 0 {
		t.Fatal("no XAPI principal listed")
	}
	id := int(principals[0]["Id"].(float64))
	_, before := p.emu.Credentials()
	res, prob = p.call(t, "threecx.generateAppToken", `{"id": `+itoa(id)+`, "dryRun": true}`)
	if prob != nil {
		t.Fatal(prob)
	}
	d := data(t, res)
	if d["dryRun"] != true || d["appToken"] != nil || d["principal"].(map[string]any)["Id"] != float64(id) {
		t.Fatalf("dry run answered %v", d)
	}
	if _, after := p.emu.Credentials(); after != before {
		t.Fatal("a dry run replaced the API key")
	}
	if _, prob := p.call(t, "threecx.generateAppToken", `{"id": 999999, "dryRun": true}`); prob == nil || prob.Kind() != action.KindUpstreamNotFound {
		t.Fatalf("dry run for a principal that does not exist: %v", prob)
	}
}

func TestListServicePrincipalsReturnAll(t *testing.T) {
	p := newPBX(t, threecxemu.Options{Now: testclock.New().Now})
	one, prob := p.call(t, "threecx.listServicePrincipals", `{"count": true}`)
	if prob != nil {
		t.Fatal(prob)
	}
	all, prob := p.call(t, "threecx.listServicePrincipals", `{"returnAll": true, "top": 1}`)
	if prob != nil {
		t.Fatal(prob)
	}
	n := len(items(t, one))
	meta := all.Meta.(threecx.ListMeta)
	// Pages of one: n full pages and an empty one that says there are no more.
	if n < 2 || len(items(t, all)) != n || meta.Pages != n+1 || meta.Truncated {
		t.Fatalf("returnAll with pages of 1 read %d of %d principals in %v", len(items(t, all)), n, all.Meta)
	}
}
