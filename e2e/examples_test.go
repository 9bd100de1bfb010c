//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The examples in examples/workflows are imported as users get them into an
// n8n that has the pack installed with npm, with two changes a headless run
// needs: credentials point at the demo's, and the trigger (webhook or
// schedule) becomes a manual start feeding the trigger's sample item.

const packagePrefix = "n8n-nodes-tokenwarden."

func exampleWorkflow(file, id string, triggerItem map[string]any) (workflow, error) {
	b, err := os.ReadFile(filepath.Join("..", "examples", "workflows", file))
	if err != nil {
		return workflow{}, err
	}
	var wf workflow
	if err := json.Unmarshal(b, &wf); err != nil {
		return workflow{}, fmt.Errorf("%s: %w", file, err)
	}
	wf.ID, wf.PinData = id, nil
	var trigger string
	for i := range wf.Nodes {
		n := &wf.Nodes[i]
		if short, ok := strings.CutPrefix(n.Type, packagePrefix); ok {
			c := credentialOf[short]
			n.Credentials = map[string]any{c.typ: credentialRef(c.provider)}
		}
		if n.Type == "n8n-nodes-base.webhook" || n.Type == "n8n-nodes-base.scheduleTrigger" {
			payload, _ := json.Marshal(triggerItem)
			trigger = n.Name
			*n = wfNode{ID: n.ID, Name: n.Name, Type: "n8n-nodes-base.set", TypeVersion: 3.4, Position: n.Position,
				Parameters: map[string]any{"mode": "raw", "jsonOutput": string(payload), "options": map[string]any{}}}
		}
	}
	if trigger == "" {
		return workflow{}, fmt.Errorf("%s: no webhook or schedule trigger", file)
	}
	wf.Nodes = append(wf.Nodes, wfNode{ID: id + "-start", Name: "Start", Type: "n8n-nodes-base.manualTrigger", TypeVersion: 1, Parameters: map[string]any{}})
	wf.Connections["Start"] = map[string]any{"main": [][]map[string]any{{{"node": trigger, "type": "main", "index": 0}}}}
	return wf, nil
}

func exampleWorkflows() ([]workflow, error) {
	rotation, err := exampleWorkflow("scheduled-rotation.json", "exRotation", map[string]any{})
	if err != nil {
		return nil, err
	}
	all := []workflow{rotation}
	if env.oauth != nil && env.connections["appgate"] != nil {
		// What the HR system would post for Amelia Hart (extension 101 on
		// the PBX, carol at the ldap provider on Appgate, and a refresh
		// token the OAuth server issued).
		offboard, err := exampleWorkflow("employee-offboarded.json", "exOffboard", map[string]any{
			"headers": map[string]any{"content-type": "application/json"}, "params": map[string]any{}, "query": map[string]any{},
			"body": map[string]any{"extension": "101", "appgateUser": "carol", "appgateProvider": "ldap", "refreshToken": env.oauth["oauth"].tokens[2].refresh},
		})
		if err != nil {
			return nil, err
		}
		all = append(all, offboard)
	}
	return all, nil
}

func TestExampleEmployeeOffboarded(t *testing.T) {
	skipWithoutOAuth(t)
	r := executeOn(t, env.n8nNpm, "exOffboard")
	mustSucceed(t, r)
	found := r.items(t, "Find 3CX Tokens")
	revoked := r.items(t, "Revoke 3CX Token")
	if len(found) == 0 || len(revoked) != len(found) {
		t.Fatalf("found %d of extension 101's tokens and revoked %d; want the same, at least one", len(found), len(revoked))
	}
	for _, it := range found {
		if it.JSON["Username"] != "101" {
			t.Errorf("found someone else's token: %v", it.JSON)
		}
	}
	dns := revokedDevices(t, r, "Revoke Appgate Devices")
	if len(dns) == 0 {
		t.Error("no Appgate device revoked")
	}
	for _, dn := range dns {
		if !strings.HasSuffix(dn, ",CN=carol,OU=ldap") {
			t.Errorf("revoked %s, not one of carol's devices", dn)
		}
	}
	revokedToken(t, r, "Revoke OAuth Token", "rfc7009")
	s := env.oauth["oauth"]
	if active, err := s.active(s.tokens[2].refresh); err != nil || active {
		t.Fatalf("the offboarded person's refresh token is still active (%v)", err)
	}
}

func TestExampleScheduledRotation(t *testing.T) {
	r := executeOn(t, env.n8nNpm, "exRotation")
	mustSucceed(t, r)
	var revoked []int
	for _, it := range r.items(t, "Revoke Old Token") {
		if it.JSON["revoked"] != true {
			t.Errorf("revoke item %v", it.JSON)
		}
		revoked = append(revoked, int(it.JSON["id"].(float64)))
	}
	sort.Ints(revoked)
	// The principal's unrevoked refresh tokens are 31 (6 h old), 32 (26 h)
	// and 33 (46 h): only the two older than a day go.
	if fmt.Sprint(revoked) != "[32 33]" {
		t.Errorf("revoked %v, want [32 33]", revoked)
	}
	gen := r.items(t, "Generate New App Token")
	if len(gen) != 1 {
		t.Fatalf("Generate New App Token ran for %d items, want once", len(gen))
	}
	report := r.items(t, "Store and Report")
	if len(report) != 1 || report[0].JSON["newTokenReceived"] != true || fmt.Sprint(report[0].JSON["revokedTokenIds"]) != "[32 33]" {
		t.Fatalf("report %+v", report)
	}
	if _, leaked := report[0].JSON["appToken"]; leaked {
		t.Error("the report must not carry the new token")
	}
}
