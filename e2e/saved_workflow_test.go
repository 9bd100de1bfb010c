//go:build e2e

package e2e

import (
	"path/filepath"
	"testing"
)

// testdata/saved-with-pack-0.1.0.json is a workflow as n8n exported it with
// the JSON-built pack 0.1.0 installed (node type version 1, every node, a
// 3CX ID mapped from an earlier node): it must import and run unchanged.
// It runs in the npm-installed n8n, whose 3CX credential is stored the way
// 0.1.0 stored it (the API key under clientSecret).
var savedWorkflowFile = filepath.Join("testdata", "saved-with-pack-0.1.0.json")

const savedWorkflowID = "savedPack010"

func TestWorkflowSavedWithPack010RunsUnchanged(t *testing.T) {
	r := executeOn(t, env.n8nNpm, savedWorkflowID)
	mustSucceed(t, r)
	if got := r.items(t, "Revoke Token 20"); len(got) != 1 || got[0].JSON["revoked"] != true {
		t.Errorf("Revoke Token 20: %v, want one revoked item", got)
	}
	if got := r.items(t, "New App Token"); len(got) != 1 || got[0].JSON["appToken"] == nil {
		t.Errorf("New App Token: %v, want an app token", got)
	}
	if got := r.items(t, "Revoke OAuth Token"); len(got) != 1 || got[0].JSON["revoked"] != true {
		t.Errorf("Revoke OAuth Token: %v", got)
	}
	if env.connections["appgate"] != nil {
		if got := r.items(t, "Revoke Nobody"); len(got) != 1 || got[0].JSON["deviceCount"] != float64(0) {
			t.Errorf("Revoke Nobody: %v, want deviceCount 0", got)
		}
		if got := r.items(t, "Alice's Devices"); len(got) == 0 {
			t.Errorf("Alice's Devices: no items")
		}
	}
}
