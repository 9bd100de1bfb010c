//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
)

// The demo PBX (threecxemu) is seeded with security tokens 1..34, of which
// 31..34 belong to the service principal the sidecar signs in as, and
// service principal 32.
const (
	revokeID         = 7
	servicePrincipal = 32
	unknownTokenID   = 99999
	manyItems        = 200
)

func threeCxWorkflows() []workflow {
	many := make([]any, manyItems)
	for i := range many {
		many[i] = i%30 + 1
	}
	return []workflow{
		chain("tcxListSec", tw("List Security Tokens", threeCxType, map[string]any{
			"resource": "securityToken", "operation": "list", "limit": 5,
			"options": map[string]any{"filter": "Revoked eq null", "select": "Id,DisplayName,Revoked", "count": true, "orderBy": "Id"},
		})),
		chain("tcxListMine", tw("List Refresh Tokens", threeCxType, map[string]any{
			"resource": "refreshToken", "operation": "list", "returnAll": true,
		})),
		chain("tcxRevoke",
			tw("Revoke Security Token", threeCxType, map[string]any{"resource": "securityToken", "operation": "revoke", "id": revokeID}),
			tw("Check Revoked", threeCxType, map[string]any{
				"resource": "securityToken", "operation": "list",
				"options": map[string]any{"filter": "={{ 'Id eq ' + $json.id }}"},
			})),
		chain("tcxAppToken", tw("Generate App Token", threeCxType, map[string]any{
			"resource": "servicePrincipal", "operation": "generateAppToken", "id": servicePrincipal,
		})),
		chain("tcxNodeError", tw("Revoke Unknown", threeCxType, map[string]any{
			"resource": "securityToken", "operation": "revoke", "id": unknownTokenID,
		})),
		chain("tcxContinue",
			func() wfNode {
				n := tw("Revoke Unknown", threeCxType, map[string]any{"resource": "securityToken", "operation": "revoke", "id": unknownTokenID})
				n.OnError = "continueRegularOutput"
				return n
			}(),
			wfNode{Name: "After", Type: "n8n-nodes-base.noOp", TypeVersion: 1, Parameters: map[string]any{}}),
		chain("tcxMany", append(items("tokenId", many),
			tw("List One Each", threeCxType, map[string]any{
				"resource": "securityToken", "operation": "list",
				"options": map[string]any{"filter": "={{ 'Id eq ' + $json.tokenId }}", "select": "Id,DisplayName"},
			}))...),
	}
}

func execute(t *testing.T, id string) *run {
	t.Helper()
	return executeOn(t, env.n8n, id)
}

func executeOn(t *testing.T, n *n8n, id string) *run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := n.execute(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	record(id, r)
	t.Logf("n8n execute --id=%s: %s in %.2f s", id, r.Status, r.elapsed.Seconds())
	return r
}

func mustSucceed(t *testing.T, r *run) {
	t.Helper()
	if r.Status != "success" {
		t.Fatalf("execution %s: %+v", r.Status, r.Data.ResultData.Error)
	}
}

func TestThreeCxListSecurityTokensGivesOneItemPerToken(t *testing.T) {
	r := execute(t, "tcxListSec")
	mustSucceed(t, r)
	got := r.items(t, "List Security Tokens")
	if len(got) != 5 {
		t.Fatalf("got %d items, want 5 (Limit): %+v", len(got), got)
	}
	for i, it := range got {
		if it.JSON["Revoked"] != nil || it.JSON["Id"] == nil || it.JSON["DisplayName"] == nil {
			t.Errorf("item %d does not look like an unrevoked security token with the selected fields: %v", i, it.JSON)
		}
		if _, ok := it.JSON["CreatedByIp"]; ok {
			t.Errorf("item %d has fields outside Select: %v", i, it.JSON)
		}
		if n, _ := it.JSON["totalCount"].(float64); n < 5 {
			t.Errorf("item %d: Count asked, totalCount = %v", i, it.JSON["totalCount"])
		}
	}
	if got[0].JSON["Id"].(float64) > got[1].JSON["Id"].(float64) {
		t.Errorf("Order By Id not applied: %v then %v", got[0].JSON["Id"], got[1].JSON["Id"])
	}
}

func TestThreeCxListRefreshTokensReturnsAllOfMyTokens(t *testing.T) {
	r := execute(t, "tcxListMine")
	mustSucceed(t, r)
	got := r.items(t, "List Refresh Tokens")
	if len(got) != threecxemu.SeededMyTokens {
		t.Fatalf("got %d items, want the principal's %d refresh tokens: %+v", len(got), threecxemu.SeededMyTokens, got)
	}
	for _, it := range got {
		if it.JSON["DisplayName"] != "Tokenwarden automation" {
			t.Errorf("MyTokens returned someone else's token: %v", it.JSON)
		}
	}
}

func TestThreeCxRevokeThenListShowsItRevoked(t *testing.T) {
	r := execute(t, "tcxRevoke")
	mustSucceed(t, r)
	revoked := r.items(t, "Revoke Security Token")
	if len(revoked) != 1 || revoked[0].JSON["resource"] != "SecurityToken" || revoked[0].JSON["id"] != float64(revokeID) || revoked[0].JSON["revoked"] != true {
		t.Fatalf("revoke should give one item naming the revoked token, got %+v", revoked)
	}
	after := r.items(t, "Check Revoked")
	if len(after) != 1 || after[0].JSON["Revoked"] == nil {
		t.Fatalf("token %d should now carry a Revoked time: %+v", revokeID, after)
	}
}

func TestThreeCxGenerateAppToken(t *testing.T) {
	r := execute(t, "tcxAppToken")
	mustSucceed(t, r)
	got := r.items(t, "Generate App Token")
	if len(got) != 1 {
		t.Fatalf("got %d items, want 1", len(got))
	}
	tok, _ := got[0].JSON["appToken"].(string)
	if got[0].JSON["id"] != float64(servicePrincipal) || got[0].JSON["resource"] != "ServicePrincipal" || len(tok) < 16 {
		t.Fatalf("unexpected item %v", got[0].JSON)
	}
}

func TestThreeCxUnknownTokenIsANodeErrorWithTheProblemDetail(t *testing.T) {
	r := execute(t, "tcxNodeError")
	if r.Status != "error" {
		t.Fatalf("status %s, want error", r.Status)
	}
	e := r.Data.ResultData.Error
	if e == nil {
		t.Fatal("no error in the execution")
	}
	want := fmt.Sprintf("RefreshToken with Id %d was not found", unknownTokenID)
	if !strings.Contains(e.Message, want) {
		t.Errorf("message %q should carry the problem detail %q", e.Message, want)
	}
	if e.HTTPCode != "404" || !strings.Contains(e.Description, "upstream-not-found") {
		t.Errorf("httpCode %q, description %q: want 404 and the problem type", e.HTTPCode, e.Description)
	}
	if e.Node["name"] != "Revoke Unknown" {
		t.Errorf("error names node %v", e.Node["name"])
	}
}

func TestThreeCxErrorContinuesWithOnErrorContinue(t *testing.T) {
	r := execute(t, "tcxContinue")
	mustSucceed(t, r)
	got := r.items(t, "Revoke Unknown")
	if len(got) != 1 {
		t.Fatalf("got %d items, want 1", len(got))
	}
	msg, _ := got[0].JSON["error"].(string)
	if !strings.Contains(msg, fmt.Sprintf("RefreshToken with Id %d was not found", unknownTokenID)) {
		t.Errorf("continued item's error %q should carry the problem detail", msg)
	}
	if after := r.items(t, "After"); len(after) != 1 {
		t.Errorf("the flow should have continued past the failed node, After got %d items", len(after))
	}
}

func TestThreeCxManyItemsShareOneSignIn(t *testing.T) {
	if env.coldManyErr != nil {
		t.Fatal(env.coldManyErr)
	}
	r := env.coldMany
	record("tcxMany", r)
	t.Logf("n8n execute --id=tcxMany (first run, cold sidecar): %s in %.2f s", r.Status, r.elapsed.Seconds())
	mustSucceed(t, r)
	got := r.items(t, "List One Each")
	if len(got) != manyItems {
		t.Fatalf("got %d items, want %d (one token per input item)", len(got), manyItems)
	}
	for i, it := range got {
		if it.JSON["Id"] != float64(i%30+1) {
			t.Fatalf("item %d is token %v, want %d", i, it.JSON["Id"], i%30+1)
		}
	}
	// n8n sends the 200 requests at once; the sidecar had not signed in yet.
	if env.signInsBefore != 0 || env.signInsAfter != 1 {
		t.Fatalf("the PBX counted %v sign-ins before and %v after the 200-item run, want 0 and 1", env.signInsBefore, env.signInsAfter)
	}
}
