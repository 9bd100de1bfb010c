//go:build e2e

// Package e2e runs the n8n node pack in a real n8n against `tokenwarden demo`:
// credentials and workflows are imported with n8n's own CLI and every
// workflow is executed headless with `n8n execute`. Run it with `make e2e`.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// env is what every test shares: one sidecar, one n8n user folder with
// every credential and workflow imported once.
var env struct {
	sidecarURL string
	sidecarBin string
	sidecarLog string // the sidecar's output, its demo banner included
	// profileSidecarURL is a second sidecar that keeps the demo PBX as a
	// connection profile (profile_test.go); capture records what n8n
	// sends to a sidecar.
	profileSidecarURL string
	capture           *capture
	oauth             map[string]*oauthServer
	connections       map[string]map[string]any
	pack              *described
	// n8n loads the pack from a custom extensions folder (node types
	// "CUSTOM.<name>"); n8nNpm has it installed with npm as a community
	// package ("n8n-nodes-tokenwarden.<name>"), the way users install it.
	n8n        *n8n
	n8nNpm     *n8n
	nodePrefix string

	// coldMany is the 200-item run, made before any other so the sidecar
	// has not signed in to the PBX yet, with the PBX's sign-in counts
	// around it.
	coldMany                    *run
	coldManyErr                 error
	signInsBefore, signInsAfter float64

	mu      sync.Mutex
	timings []string
}

func TestMain(m *testing.M) {
	code, err := setupAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setupAndRun(m *testing.M) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	root, err := filepath.Abs("..")
	if err != nil {
		return 0, err
	}
	pkgDir := os.Getenv("TOKENWARDEN_N8N_PACKAGE")
	if pkgDir == "" {
		pkgDir = filepath.Join(root, "dist", "n8n-nodes-tokenwarden")
	}
	if _, err := os.Stat(filepath.Join(pkgDir, "package.json")); err != nil {
		return 0, fmt.Errorf("node package not built at %s (run make n8n-package): %w", pkgDir, err)
	}
	n8nBin, err := n8nBinary(ctx, root)
	if err != nil {
		return 0, err
	}
	if env.pack, err = describePackage(ctx, root, pkgDir); err != nil {
		return 0, err
	}

	tmp, err := os.MkdirTemp("", "tokenwarden-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)

	stopSidecar, err := startSidecar(ctx, root, tmp)
	if err != nil {
		return 0, err
	}
	defer stopSidecar()
	if env.connections, err = demoConnections(); err != nil {
		return 0, err
	}

	stopProfileSidecar, err := startProfileSidecar(tmp)
	if err != nil {
		return 0, err
	}
	defer stopProfileSidecar()
	env.capture = newCapture()
	defer env.capture.Close()

	creds, err := demoCredentials()
	if err != nil {
		return 0, err
	}
	env.n8n = newN8N(n8nBin, filepath.Join(tmp, "n8n-custom"), pkgDir)
	env.nodePrefix = "CUSTOM."
	agWorkflows, err := appgateWorkflows()
	if err != nil {
		return 0, err
	}
	oaWorkflows, err := oauthWorkflows()
	if err != nil {
		return 0, err
	}
	plWorkflows, err := platformWorkflows()
	if err != nil {
		return 0, err
	}
	oaWorkflows = append(oaWorkflows, plWorkflows...)
	nodeWorkflows := append(append(append(append(append(append(append(threeCxWorkflows(), agWorkflows...), oaWorkflows...), profileWorkflows()...), linkedItemsWorkflows()...), pickerWorkflows()...), truncatedWorkflows()...), lifecycleWorkflows()...)
	if err := importAll(ctx, env.n8n, filepath.Join(tmp, "import-custom"), append(creds, profileCredentials()...), nodeWorkflows); err != nil {
		return 0, err
	}
	npmHome := filepath.Join(tmp, "n8n-npm")
	if err := npmInstallPackage(ctx, pkgDir, npmHome, tmp); err != nil {
		return 0, err
	}
	env.n8nNpm = newN8N(n8nBin, npmHome, "")
	examples, err := exampleWorkflows()
	if err != nil {
		return 0, err
	}
	if err := importAll(ctx, env.n8nNpm, filepath.Join(tmp, "import-npm"), savedShape(creds), examples); err != nil {
		return 0, err
	}
	if err := env.n8nNpm.importFile(ctx, "workflow", savedWorkflowFile, false); err != nil {
		return 0, err
	}

	env.signInsBefore, env.coldManyErr = threeCxSignIns()
	if env.coldManyErr == nil {
		env.coldMany, env.coldManyErr = env.n8n.execute(ctx, "tcxMany")
	}
	if env.coldManyErr == nil {
		env.signInsAfter, env.coldManyErr = threeCxSignIns()
	}

	code := m.Run()
	printTimings()
	return code, nil
}

// savedShape stores the 3CX credentials the way pack 0.1.0 did: the API key
// under clientSecret, the name the field had then.
func savedShape(creds []map[string]any) []map[string]any {
	out := make([]map[string]any, len(creds))
	for i, c := range creds {
		out[i] = c
		data, _ := c["data"].(map[string]any)
		if c["type"] != "tokenwardenThreeCxApi" || data["apiKey"] == nil {
			continue
		}
		old := map[string]any{}
		for k, v := range data {
			old[k] = v
		}
		old["clientSecret"] = old["apiKey"]
		delete(old, "apiKey")
		cc := map[string]any{}
		for k, v := range c {
			cc[k] = v
		}
		cc["data"] = old
		out[i] = cc
	}
	return out
}

// n8nBinary is $N8N_BIN, or whatever .ci/install-n8n installs for
// $N8N_VERSION (instant when the cache is warm); it also finds the Node.js
// that line runs on.
func n8nBinary(ctx context.Context, root string) (string, error) {
	line.version = os.Getenv("N8N_VERSION")
	if line.version == "" {
		line.version = "1.123.81"
	}
	installed := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(root, ".ci", "install-n8n")}, args...)...)
		cmd.Env = append(os.Environ(), "N8N_VERSION="+line.version)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf(".ci/install-n8n %s: %w", strings.Join(args, " "), err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return lines[len(lines)-1], nil
	}
	node, err := installed("--node")
	if err != nil {
		return "", err
	}
	line.nodeDir = filepath.Dir(node)
	if bin := os.Getenv("N8N_BIN"); bin != "" {
		return bin, nil
	}
	return installed()
}

// startSidecar builds the sidecar into tmp and runs `tokenwarden demo`, the
// sidecar every credential but the profile ones talks to.
func startSidecar(ctx context.Context, root, tmp string) (stop func(), err error) {
	bin := filepath.Join(tmp, "tokenwarden")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./sidecar/cmd/tokenwarden")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %w\n%s", err, out)
	}
	env.sidecarBin = bin
	env.sidecarLog = filepath.Join(tmp, "sidecar.log")
	env.sidecarURL, stop, err = launchSidecar(bin, env.sidecarLog, nil)
	return stop, err
}

// launchSidecar runs `tokenwarden demo` on a free loopback port with extra
// arguments and environment variables, and waits until it is ready.
func launchSidecar(bin, logPath string, args []string, extraEnv ...string) (url string, stop func(), err error) {
	return launchTokenwarden(bin, logPath, "demo", args, extraEnv...)
}

// launchTokenwarden runs `tokenwarden <command> --listen ADDR ARGS...` (demo
// or serve) on a free loopback port and waits until /readyz answers 200.
func launchTokenwarden(bin, logPath, command string, args []string, extraEnv ...string) (url string, stop func(), err error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return "", nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, append([]string{command, "--listen", addr}, args...)...)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return "", nil, err
	}
	stop = func() {
		interrupt(cmd, 10*time.Second)
		logFile.Close()
	}
	url = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			log, _ := os.ReadFile(logPath)
			return "", nil, fmt.Errorf("sidecar not ready at %s after 30 s:\n%s", url, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// interrupt stops a process we started the way Ctrl-C would, and kills it
// if it has not exited within grace.
func interrupt(cmd *exec.Cmd, grace time.Duration) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func demoConnections() (map[string]map[string]any, error) {
	var conns map[string]map[string]any
	if err := getJSON("/v1/demo/connections", &conns); err != nil {
		return nil, err
	}
	if len(conns) == 0 {
		return nil, fmt.Errorf("GET /v1/demo/connections: no connections")
	}
	return conns, nil
}

// threeCxSignIns is how often the demo PBX has issued an access token.
func threeCxSignIns() (float64, error) {
	var stats map[string]map[string]float64
	if err := getJSON("/v1/demo/stats", &stats); err != nil {
		return 0, err
	}
	return stats["threecx"]["signIns"], nil
}

func getJSON(path string, v any) error {
	resp, err := http.Get(env.sidecarURL + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return json.NewDecoder(bytes.NewReader(body)).Decode(v)
}

// importAll imports the demo credentials and the workflows into one n8n
// user folder with n8n's CLI (two n8n starts).
func importAll(ctx context.Context, n *n8n, dir string, creds []map[string]any, workflows []workflow) error {
	credFile := filepath.Join(dir, "credentials.json")
	if err := writeJSON(credFile, creds); err != nil {
		return err
	}
	if err := n.importFile(ctx, "credentials", credFile, false); err != nil {
		return err
	}
	wfDir := filepath.Join(dir, "workflows")
	for _, wf := range workflows {
		if err := writeJSON(filepath.Join(wfDir, wf.ID+".json"), wf); err != nil {
			return err
		}
	}
	return n.importFile(ctx, "workflow", wfDir, true)
}

// npmInstallPackage installs the pack into an n8n user folder the way the
// docs tell users to: npm install of the package tarball in ~/.n8n/nodes,
// without peer dependencies (n8n provides n8n-workflow itself).
func npmInstallPackage(ctx context.Context, pkgDir, home, tmp string) error {
	pack := exec.CommandContext(ctx, "npm", "pack", "--silent", "--pack-destination", tmp)
	pack.Dir = pkgDir
	out, err := pack.Output()
	if err != nil {
		return fmt.Errorf("npm pack %s: %w", pkgDir, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	tgz := filepath.Join(tmp, lines[len(lines)-1])
	nodes := filepath.Join(home, ".n8n", "nodes")
	if err := writeJSON(filepath.Join(nodes, "package.json"), map[string]any{"name": "installed-nodes", "private": true}); err != nil {
		return err
	}
	install := exec.CommandContext(ctx, "npm", "install", "--omit=peer", "--no-audit", "--no-fund", "--loglevel=error", tgz)
	install.Dir = nodes
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("npm install %s: %w\n%s", tgz, err, out)
	}
	return nil
}

// record notes how long one n8n execution took, for the summary.
func record(name string, r *run) {
	env.mu.Lock()
	defer env.mu.Unlock()
	env.timings = append(env.timings, fmt.Sprintf("  %-42s %6.2f s", name, r.elapsed.Seconds()))
}

func printTimings() {
	env.mu.Lock()
	defer env.mu.Unlock()
	sort.Strings(env.timings)
	fmt.Println("n8n execute wall time per workflow (n8n start-up included):")
	for _, l := range env.timings {
		fmt.Println(l)
	}
}
