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
	sidecarURL  string
	connections map[string]map[string]any
	n8n         *n8n
	nodePrefix  string // node type prefix n8n gives our nodes, e.g. "CUSTOM."

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

	env.n8n = newN8N(n8nBin, filepath.Join(tmp, "n8n"), pkgDir)
	env.nodePrefix = "CUSTOM."
	if err := importAll(ctx, tmp); err != nil {
		return 0, err
	}

	code := m.Run()
	printTimings()
	return code, nil
}

// n8nBinary is $N8N_BIN, or whatever .ci/install-n8n installs (instant when
// the cache is warm).
func n8nBinary(ctx context.Context, root string) (string, error) {
	if bin := os.Getenv("N8N_BIN"); bin != "" {
		return bin, nil
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, ".ci", "install-n8n"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf(".ci/install-n8n: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

func startSidecar(ctx context.Context, root, tmp string) (stop func(), err error) {
	bin := filepath.Join(tmp, "tokenwarden")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./sidecar/cmd/tokenwarden")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %w\n%s", err, out)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(tmp, "sidecar.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "demo", "--listen", addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		interrupt(cmd, 10*time.Second)
		logFile.Close()
	}
	env.sidecarURL = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(env.sidecarURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("sidecar not ready at %s after 30 s:\n%s", env.sidecarURL, log)
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

// importAll writes one credential per demo connection and every workflow the
// tests and examples use, then imports them with n8n's CLI (two n8n starts).
func importAll(ctx context.Context, tmp string) error {
	creds, err := demoCredentials()
	if err != nil {
		return err
	}
	credFile := filepath.Join(tmp, "credentials.json")
	if err := writeJSON(credFile, creds); err != nil {
		return err
	}
	if err := env.n8n.importFile(ctx, "credentials", credFile, false); err != nil {
		return err
	}
	wfDir := filepath.Join(tmp, "workflows")
	workflows, err := allWorkflows()
	if err != nil {
		return err
	}
	for _, wf := range workflows {
		if err := writeJSON(filepath.Join(wfDir, wf.ID+".json"), wf); err != nil {
			return err
		}
	}
	return env.n8n.importFile(ctx, "workflow", wfDir, true)
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
