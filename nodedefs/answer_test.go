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
