package nodedefs_test

// What the nodes make of a list answer, run in Node.js on the built
// package's sidecarAnswer: the first output step of every operation.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type answerOutcome struct {
	Items []map[string]any `json:"items"`
	Error string           `json:"error"`
}

// sidecarAnswer runs the pack's sidecarAnswer over one sidecar answer whose
// status is 200, as the routing engine hands it over.
func sidecarAnswer(t *testing.T, body string) answerOutcome {
	t.Helper()
	describedPack(t) // builds the package
	module := filepath.Join(described.pkg, "dist", "nodedefs", "shared", "sidecar.js")
	js := `const {sidecarAnswer} = require(process.argv[1]);
const body = JSON.parse(process.argv[2]);
sidecarAnswer.call({}, [{json: {}}], {statusCode: 200, headers: {}, body})
  .then(() => process.stdout.write(JSON.stringify({items: body.data})),
        (e) => process.stdout.write(JSON.stringify({error: e.message})));`
	cmd := exec.Command("node", "-e", js, module, body)
	cmd.Env = append(os.Environ(), "NODE_PATH="+described.modules)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var o answerOutcome
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return o
}

// A streamed list that broke off after its 200 fails the node, saying how
// many items had arrived and why; a list Max Items cut short does not fail
// and marks its items truncated.
func TestListBrokenOffFailsTheNode(t *testing.T) {
	broken := sidecarAnswer(t, `{"data": [{"Id": 1}, {"Id": 2}], "meta": {"returned": 2, "truncated": true,
		"problem": {"type": "https://tokenwarden.dev/problems/upstream-unavailable", "title": "Upstream unavailable", "status": 502,
		"detail": "3CX broke off the answer for page 3"}}}`)
	if broken.Error == "" {
		t.Fatalf("a list that broke off passed as items: %v", broken.Items)
	}
	for _, want := range []string{"after 2 items had arrived", "incomplete", "3CX broke off the answer for page 3"} {
		if !strings.Contains(broken.Error, want) {
			t.Errorf("error %q lacks %q", broken.Error, want)
		}
	}

	short := sidecarAnswer(t, `{"data": [{"Id": 1}, {"Id": 2}], "meta": {"returned": 2, "truncated": true}}`)
	if short.Error != "" {
		t.Fatalf("a list cut by Max Items failed: %s", short.Error)
	}
	for i, it := range short.Items {
		if it["truncated"] != true {
			t.Errorf("item %d %v: want truncated: true", i, it)
		}
	}
}

// A picker whose list the sidecar refuses shows the sidecar's detail once:
// in the message, with a description of its own beside it (n8n otherwise
// takes the problem's detail for the description, and the editor shows the
// same words twice).
func TestPickerErrorSaysTheDetailOnce(t *testing.T) {
	describedPack(t) // builds the package
	module := filepath.Join(described.pkg, "dist", "nodedefs", "shared", "listSearch.js")
	js := `const {searchSecurityTokens} = require(process.argv[1]);
const refused = Object.assign(new Error('Request failed with status code 422'), {cause: {response: {data: {
  type: 'https://tokenwarden.dev/problems/invalid-input', title: 'Invalid input', status: 422,
  detail: '1 invalid field(s): connection.baseUrl'}}}});
const ctx = {
  getNode: () => ({name: '3CX', type: 'tokenwardenThreeCx', typeVersion: 3, parameters: {}}),
  getCredentials: async () => ({sidecarUrl: 'http://127.0.0.1:8787', baseUrl: 'nope', clientId: 'a', clientSecret: 'b'}),
  helpers: {httpRequestWithAuthentication: async () => { throw refused; }},
};
searchSecurityTokens.call(ctx).then(() => process.stdout.write('{}'),
  (e) => process.stdout.write(JSON.stringify({message: e.message, description: e.description})));`
	cmd := exec.Command("node", "-e", js, module)
	cmd.Env = append(os.Environ(), "NODE_PATH="+described.modules)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var e struct{ Message, Description string }
	if err := json.Unmarshal(out, &e); err != nil || e.Message == "" {
		t.Fatalf("no error from a refused list: %s (%v)", out, err)
	}
	const detail = "1 invalid field(s)"
	if !strings.Contains(e.Message, detail) || !strings.Contains(e.Message, "http://127.0.0.1:8787") {
		t.Errorf("message %q lacks the detail or the sidecar URL", e.Message)
	}
	if strings.Contains(e.Description, detail) || e.Description == "" {
		t.Errorf("description %q repeats the detail or is empty", e.Description)
	}
}
