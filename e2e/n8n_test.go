//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// n8n runs the real n8n CLI against one throw-away user folder.
type n8n struct {
	bin string
	env []string
}

// line is the n8n release line under test: N8N_VERSION (1.123.81 unless
// set; make e2e runs 1.123.81 and 2.41.1) and the Node.js that runs it.
var line struct {
	version string
	nodeDir string // prepended to PATH: n8n's launcher runs "node"
}

func newN8N(bin, home, extensions string) *n8n {
	env := []string{
		"PATH=" + line.nodeDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"N8N_USER_FOLDER=" + home,
		"N8N_ENCRYPTION_KEY=tokenwarden-e2e-only",
		// Quiet and offline: no telemetry, no version checks, no templates.
		"N8N_DIAGNOSTICS_ENABLED=false",
		"N8N_VERSION_NOTIFICATIONS_ENABLED=false",
		"N8N_TEMPLATES_ENABLED=false",
		"N8N_PERSONALIZATION_ENABLED=false",
		"N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=false",
		// No Code nodes are used, so no task-runner process is needed.
		"N8N_RUNNERS_ENABLED=false",
		// `n8n execute` prints its result through the logger at info level.
		"N8N_LOG_LEVEL=info",
		"DB_TYPE=sqlite",
	}
	if strings.HasPrefix(line.version, "1.") {
		// 1.x's vm expression engine needs isolated-vm, which only builds
		// for Node 24 (see .ci/install-n8n); the legacy engine is 1.x's
		// long-standing one. 2.x on Node 24 runs its default engine.
		env = append(env, "N8N_EXPRESSION_ENGINE=legacy")
	}
	if extensions != "" {
		env = append(env, "N8N_CUSTOM_EXTENSIONS="+extensions)
	}
	return &n8n{bin: bin, env: env}
}

func (n *n8n) run(ctx context.Context, args ...string) (stdout, stderr []byte, err error) {
	cmd := exec.CommandContext(ctx, n.bin, args...)
	cmd.Env = append(append([]string{}, n.env...), ownBrokerPort())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// ownBrokerPort gives each n8n process a task broker port of its own: 2.x
// starts its broker even with runners off, on 5679 unless told, so two n8n
// processes on one machine (another test run, a running editor) would
// refuse to start.
func ownBrokerPort() string {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return "N8N_RUNNERS_BROKER_PORT=5679"
	}
	return "N8N_RUNNERS_BROKER_PORT=" + addr[strings.LastIndex(addr, ":")+1:]
}

func (n *n8n) importFile(ctx context.Context, kind, path string, separate bool) error {
	args := []string{"import:" + kind, "--input=" + path}
	if separate {
		args = append(args, "--separate")
	}
	out, errb, err := n.run(ctx, args...)
	if err != nil {
		return fmt.Errorf("n8n import:%s: %w\n%s%s", kind, err, out, errb)
	}
	return nil
}

// run is the part of an n8n execution result the tests look at.
type run struct {
	Status string `json:"status"`
	Data   struct {
		ResultData struct {
			Error   *nodeError           `json:"error"`
			RunData map[string][]nodeRun `json:"runData"`
		} `json:"resultData"`
	} `json:"data"`
	elapsed time.Duration
	raw     []byte
}

type nodeRun struct {
	ExecutionStatus string                         `json:"executionStatus"`
	Error           *nodeError                     `json:"error"`
	Data            map[string][][]json.RawMessage `json:"data"`
}

type nodeError struct {
	Message     string         `json:"message"`
	Description string         `json:"description"`
	HTTPCode    string         `json:"httpCode"`
	Name        string         `json:"name"`
	Node        map[string]any `json:"node"`
	Context     map[string]any `json:"context"`
}

// item is one n8n item: its json, the input item it came from and, when
// the node continued on an error, the error it carried.
type item struct {
	JSON       map[string]any `json:"json"`
	Error      *nodeError     `json:"error"`
	PairedItem any            `json:"pairedItem"`
}

// items returns the items a node put on its first output.
func (r *run) items(t *testing.T, node string) []item {
	t.Helper()
	runs := r.Data.ResultData.RunData[node]
	if len(runs) == 0 {
		t.Fatalf("node %q did not run; nodes that ran: %v", node, keys(r.Data.ResultData.RunData))
	}
	main := runs[len(runs)-1].Data["main"]
	if len(main) == 0 {
		return nil
	}
	var out []item
	for _, raw := range main[0] {
		var it item
		if err := json.Unmarshal(raw, &it); err != nil {
			t.Fatalf("node %q: item %s: %v", node, raw, err)
		}
		out = append(out, it)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// execute runs an imported workflow headless. A workflow that stops on a
// node error is not a Go error: the run comes back with status "error" and
// the node's error, because several tests expect exactly that.
func (n *n8n) execute(ctx context.Context, id string) (*run, error) {
	start := time.Now()
	out, errb, err := n.run(ctx, "execute", "--id="+id, "--rawOutput")
	elapsed := time.Since(start)
	doc, perr := extractRun(out)
	if perr != nil {
		if err == nil {
			err = perr
		}
		return nil, fmt.Errorf("n8n execute --id=%s: %w\nstdout:\n%s\nstderr:\n%s", id, err, tail(out), tail(errb))
	}
	var r run
	if err := json.Unmarshal(doc, &r); err != nil {
		return nil, fmt.Errorf("n8n execute --id=%s: result is not JSON: %w", id, err)
	}
	r.elapsed, r.raw = elapsed, doc
	return &r, nil
}

// extractRun finds the execution document in n8n's output. On success the
// output is the document alone; on failure n8n logs a few lines around it,
// each document line indented and the document closed by "}" at column 0.
func extractRun(out []byte) ([]byte, error) {
	lines := bytes.Split(out, []byte("\n"))
	begin := -1
	for i, l := range lines {
		if string(bytes.TrimRight(l, "\r")) == "{" {
			begin = i
			break
		}
	}
	if begin < 0 {
		return nil, errors.New("no execution result in the output")
	}
	for i := begin + 1; i < len(lines); i++ {
		if string(bytes.TrimRight(lines[i], "\r")) == "}" {
			return bytes.Join(lines[begin:i+1], []byte("\n")), nil
		}
	}
	return nil, errors.New("execution result is cut short")
}

func tail(b []byte) string {
	const max = 4000
	if len(b) > max {
		return "..." + string(b[len(b)-max:])
	}
	return string(b)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func trimAll(s string) string { return strings.Join(strings.Fields(s), " ") }
