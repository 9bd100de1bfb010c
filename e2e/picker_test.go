//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Node version 2 turns the 3CX security token and the Appgate filter into
// resource pickers (resource locators); version 1 keeps the plain fields
// (saved_workflow_test.go runs a version 1 workflow).

const pickedTokenID = 23

func pickerWorkflows() []workflow {
	v2 := func(n wfNode) wfNode { n.TypeVersion = 2; return n }
	return []workflow{
		chain("pickRevoke",
			v2(tw("Revoke Picked", threeCxType, map[string]any{
				"resource": "securityToken", "operation": "revoke",
				"id": map[string]any{"__rl": true, "mode": "id", "value": fmt.Sprint(pickedTokenID)},
			})),
			v2(tw("Revoke By Expression", threeCxType, map[string]any{
				"resource": "securityToken", "operation": "revoke",
				"id": map[string]any{"__rl": true, "mode": "id", "value": "={{ $json.id + 1 }}"},
			})),
		),
		chain("pickAppgate", v2(tw("Revoke Filtered", appgateType, map[string]any{
			"resource": "device", "operation": "revokeTokens",
			"distinguishedNameFilter": map[string]any{"__rl": true, "mode": "filter", "value": "CN=nobody,OU=ldap"},
		}))),
	}
}

func TestPickedSecurityTokenIsRevoked(t *testing.T) {
	r := execute(t, "pickRevoke")
	mustSucceed(t, r)
	if got := r.items(t, "Revoke Picked"); len(got) != 1 || got[0].JSON["id"] != float64(pickedTokenID) || got[0].JSON["revoked"] != true {
		t.Errorf("Revoke Picked: %v, want token %d revoked", got, pickedTokenID)
	}
	if got := r.items(t, "Revoke By Expression"); len(got) != 1 || got[0].JSON["id"] != float64(pickedTokenID+1) {
		t.Errorf("Revoke By Expression: %v, want token %d revoked", got, pickedTokenID+1)
	}
}

func TestPickedAppgateFilter(t *testing.T) {
	skipWithoutAppgate(t)
	r := execute(t, "pickAppgate")
	mustSucceed(t, r)
	if got := r.items(t, "Revoke Filtered"); len(got) != 1 || got[0].JSON["deviceCount"] != float64(0) {
		t.Errorf("Revoke Filtered: %v, want one item, no device revoked", got)
	}
}

// The pickers' "From List": the editor asks n8n for the list search's
// results, which calls the sidecar's list action with the credential. One
// n8n server answers for every 3CX picker.
func TestPickerListsFromTheSidecar(t *testing.T) {
	s := startN8NServer(t)
	cred := credentialRef(credentialOf[threeCxType].provider)
	for _, c := range []struct {
		method, resource, operation string
		version                     int
	}{
		{"searchSecurityTokens", "securityToken", "revoke", 2},
		{"searchRefreshTokens", "refreshToken", "revoke", 3},
		{"searchServicePrincipals", "servicePrincipal", "generateAppToken", 3},
	} {
		code, body, err := s.post("/rest/dynamic-node-parameters/resource-locator-results", map[string]any{
			"nodeTypeAndVersion":    map[string]any{"name": env.nodePrefix + threeCxType, "version": c.version},
			"path":                  "parameters.id",
			"methodName":            c.method,
			"currentNodeParameters": map[string]any{"resource": c.resource, "operation": c.operation, "id": map[string]any{"__rl": true, "mode": "list", "value": ""}},
			"credentials":           map[string]any{credentialOf[threeCxType].typ: cred},
			"filter":                "",
		})
		if err != nil || code != http.StatusOK {
			t.Fatalf("%s: resource-locator-results: %d %v %v", c.method, code, body, err)
		}
		data, _ := body["data"].(map[string]any)
		results, _ := data["results"].([]any)
		if len(results) == 0 {
			t.Fatalf("%s: no entries in the picker: %v", c.method, body)
		}
		first, _ := results[0].(map[string]any)
		if name := fmt.Sprint(first["name"]); !strings.Contains(name, "(ID ") || first["value"] == nil {
			t.Errorf("%s: entry %v: want a name with the ID and the ID as value", c.method, first)
		}
	}
}

// Max Items With Return All cuts a list short: every item says so.
func truncatedWorkflows() []workflow {
	return []workflow{chain("tcxTruncated", tw("Capped List", threeCxType, map[string]any{
		"resource": "securityToken", "operation": "list", "returnAll": true,
		"options": map[string]any{"maxItems": 3, "select": "Id"},
	}))}
}

func TestCappedListSaysItWasTruncated(t *testing.T) {
	r := execute(t, "tcxTruncated")
	mustSucceed(t, r)
	got := r.items(t, "Capped List")
	if len(got) != 3 {
		t.Fatalf("got %d items, want 3 (Max Items)", len(got))
	}
	for i, it := range got {
		if it.JSON["truncated"] != true {
			t.Errorf("item %d %v: want truncated: true, the PBX has more tokens", i, it.JSON)
		}
	}
}
