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
// n8n test it: first with a wrong secret (the user must read that the
// credentials were rejected), then with the right one (the user must read
// that the test succeeded). On the 3CX node it opens the security token
// picker's "From list". Screenshots land in dist/e2e-editor-<n8n version>/.
//
// How the lines show a test's success: n8n 1.x shows "Connection tested
// successfully" in the form after Save; 2.x closes the form when the test
// succeeds (if it was opened from a node) and shows the success when the
// credential is opened again, as n8n tests a credential on opening.

// editorStep is what the browser does per node: the search text, the node
// and action as the node creator shows them, the credential fields by
// label, which of them is the secret the sign-in depends on, and the
// parameter whose picker to open.
type editorStep struct {
	Search      string            `json:"search"`
	Node        string            `json:"node"`
	Action      string            `json:"action"`
	Fields      map[string]string `json:"fields"`
	Secret      string            `json:"secret"`
	WrongSecret string            `json:"wrongSecret"`
	Picker      string            `json:"picker,omitempty"`
}

// editorSeen is what editor.mjs reports the user saw on one node.
type editorSeen struct {
	Node               string   `json:"node"`
	InNodeCreator      bool     `json:"inNodeCreator"`
	OperationOpened    bool     `json:"operationOpened"`
	FailureShown       string   `json:"failureShown"`
	ClosedOnSave       bool     `json:"closedOnSave"`
	CredentialTested   bool     `json:"credentialTested"`
	TestMessage        string   `json:"testMessage"`
	CredentialSelected string   `json:"credentialSelected"`
	PickerItems        []string `json:"pickerItems"`
	PickerError        string   `json:"pickerError"`
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
		{Search: "3CX", Node: "3CX", Action: "Revoke a security token", Picker: "id"},
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
			if p.Name == secretField[typ] {
				steps[i].Secret, steps[i].WrongSecret = p.DisplayName, "not-the-secret"
			}
		}
		if steps[i].Secret == "" {
			t.Fatalf("%s: the demo credential has no %s to get wrong", typ, secretField[typ])
		}
		out = append(out, steps[i])
	}
	return out
}

func TestEditorInChromium(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Debian's Chromium is needed at /usr/bin/chromium (apt-get install chromium)")
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
		// What it saw up to the failing step still says what went wrong.
		t.Errorf("the editor run failed: %v", err)
	}
	seen := map[string]editorSeen{}
	for _, l := range strings.Split(string(got), "\n") {
		var v editorSeen
		if json.Unmarshal([]byte(l), &v) == nil && v.Node != "" {
			seen[v.Node] = v
		}
	}
	for _, step := range plan {
		v, ok := seen[step.Node]
		switch {
		case !ok:
			t.Errorf("%s: no report from the editor", step.Node)
			continue
		case !v.InNodeCreator || !v.OperationOpened:
			t.Errorf("%s: not found in the node creator or its operation not opened: %+v", step.Node, v)
		}
		// The same words TestCredentialTestButton reads from n8n's API,
		// here as the user reads them under "More details".
		if !strings.Contains(v.FailureShown, "connect with these settings") || !strings.Contains(v.FailureShown, "rejected these credentials") {
			t.Errorf("%s, wrong %s: the form showed %q, want the failed test saying the credentials were rejected", step.Node, step.Secret, v.FailureShown)
		}
		if !v.CredentialTested || !strings.Contains(v.TestMessage, "tested successfully") {
			t.Errorf("%s: the credential test with the demo's secret showed %q, want it tested successfully", step.Node, v.TestMessage)
		}
		if v.CredentialSelected == "" {
			t.Errorf("%s: the node has no credential selected after saving one", step.Node)
		}
		if step.Picker != "" {
			if len(v.PickerItems) == 0 {
				t.Errorf("%s: the %s picker listed nothing (%s)", step.Node, step.Picker, v.PickerError)
			}
			for _, item := range v.PickerItems {
				if !strings.Contains(item, "(ID ") {
					t.Errorf("%s: picker entry %q does not name its ID", step.Node, item)
				}
			}
		}
	}
}
