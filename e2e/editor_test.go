//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The editor in a real browser: Debian's Chromium, driven by
// playwright-core (e2e/editor/editor.mjs), opens a running n8n, finds each
// node of the pack in the node creator, opens one of its operations,
// creates its credential in the form with the demo's connection and lets
// n8n test it. Screenshots land in dist/e2e-editor-<n8n version>/.

// editorPlan is what the browser does per node: the search text, the node
// and action as the node creator shows them, and the credential fields by
// label.
type editorStep struct {
	Search string            `json:"search"`
	Node   string            `json:"node"`
	Action string            `json:"action"`
	Fields map[string]string `json:"fields"`
}

func editorPlan(t *testing.T) []editorStep {
	t.Helper()
	creds, err := demoCredentials()
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]map[string]any{}
	for _, c := range creds {
		if c["id"] == credentialID(credentialOf[threeCxType].provider) || c["id"] == credentialID(credentialOf[appgateType].provider) || c["id"] == credentialID(credentialOf[oauthType].provider) {
			byType[c["type"].(string)] = c["data"].(map[string]any)
		}
	}
	steps := []editorStep{
		{Search: "3CX", Node: "3CX", Action: "Revoke a security token"},
		{Search: "Appgate", Node: "Appgate SDP", Action: "Revoke device tokens"},
		{Search: "OAuth2 Token", Node: "OAuth2 Token Revocation", Action: "Revoke a token"},
	}
	types := []string{"tokenwardenThreeCxApi", "tokenwardenAppgateSdpApi", "tokenwardenOAuthRevocationApi"}
	var out []editorStep
	for i, typ := range types {
		data, ok := byType[typ]
		if !ok {
			continue
		}
		steps[i].Fields = map[string]string{}
		for _, p := range env.pack.Credentials[typ].Properties {
			v, ok := data[p.Name]
			if !ok || p.Type != "string" {
				continue
			}
			steps[i].Fields[p.DisplayName] = v.(string)
		}
		out = append(out, steps[i])
	}
	return out
}

func TestEditorInChromium(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Debian's Chromium is needed at /usr/bin/chromium (apt-get install chromium)")
	}
	if strings.HasPrefix(line.version, "2.") {
		// On 2.41.1 the credential test's success tag stays in the form but
		// hidden after Save, so the script cannot read the answer the user
		// gets; until that is understood the editor test runs on 1.x only.
		t.Skip("n8n 2.x: the credential test's success tag is not shown (open in issue 17)")
	}
	plan := editorPlan(t)
	s := startN8NServer(t)
	root, _ := filepath.Abs("..")
	out := filepath.Join(root, "dist", "e2e-editor-"+line.version)
	_ = os.RemoveAll(out)
	modules, err := exec.Command("bash", filepath.Join(root, ".ci", "install-n8n-toolchain")).Output()
	if err != nil {
		t.Fatal(err)
	}
	planJSON, _ := json.Marshal(plan)
	cmd := exec.Command("node", filepath.Join("editor", "editor.mjs"), s.url, ownerEmail, ownerPassword, out, string(planJSON))
	cmd.Env = append(os.Environ(), "NODE_PATH="+strings.TrimSpace(string(modules)))
	got, err := cmd.CombinedOutput()
	t.Logf("editor.mjs:\n%s\nscreenshots in %s", got, out)
	if err != nil {
		t.Fatalf("the editor run failed: %v", err)
	}
	for _, step := range plan {
		if !strings.Contains(string(got), `"node":"`+step.Node+`","inNodeCreator":true,"operationOpened":true,"credentialTested":true`) {
			t.Errorf("%s: not found, opened and tested in the editor", step.Node)
		}
	}
}
