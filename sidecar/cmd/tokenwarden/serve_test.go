package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"
)

// startServe runs `tokenwarden serve` with a config file and returns its
// URL, a stop function that returns the exit code, and its stderr.
func startServe(t *testing.T, cfg map[string]any, env map[string]string) (string, func() int, *testlog.Buffer) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	path := filepath.Join(t.TempDir(), "tokenwarden.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	listening = func(u string) { urls <- u }
	t.Cleanup(func() { listening = func(string) {} })
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut testlog.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--config", path}, &out, &errOut)
	}()
	select {
	case u := <-urls:
		stopped := false
		stop := func() int {
			if stopped {
				return -1
			}
			stopped = true
			cancel()
			return <-done
		}
		t.Cleanup(func() { stop() })
		return u, stop, &errOut
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d: %s", code, errOut.String())
	}
	return "", nil, nil
}

func TestNonLoopbackListenWithoutKeysRefusesToStart(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:8787"} {
		var out, errOut testlog.Buffer
		code := run(context.Background(), []string{"serve", "--listen", addr}, &out, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), "refusing to listen on "+addr+" without caller API keys") {
			t.Errorf("%s: exit %d: %s", addr, code, errOut.String())
		}
	}
}

func TestBadConfigNamesEveryFieldAtStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(path, []byte(`{"apiKeys": [{"id": "k", "env": "TW_TEST_UNSET_KEY"}], "limits": {"requestTimeout": "forever"}, "profiles": {"pbx": {"provider": "threecx", "connection": {"baseUrl": "https://pbx.example", "clientId": "x", "clientSecret": "written-in-the-file"}}}}`), 0o600)
	var out, errOut testlog.Buffer
	code := run(context.Background(), []string{"serve", "--config", path}, &out, &errOut)
	msg := errOut.String()
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"config.limits.requestTimeout", "- config.limits.requestTimeout: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	// Reference errors are reported once the schema passes.
	_ = os.WriteFile(path, []byte(`{"apiKeys": [{"id": "k", "env": "TW_TEST_UNSET_KEY"}], "profiles": {"pbx": {"provider": "threecx", "connection": {"baseUrl": "https://pbx.example", "clientId": "x", "clientSecret": "written-in-the-file"}}}}`), 0o600)
	var errOut2 testlog.Buffer
	code = run(context.Background(), []string{"serve", "--config", path}, &out, &errOut2)
	msg = errOut2.String()
	if code != 1 || !strings.Contains(msg, "config.apiKeys.0: environment variable TW_TEST_UNSET_KEY is not set") ||
		!strings.Contains(msg, "config.profiles.pbx.connection.clientSecret") || strings.Contains(msg, "written-in-the-file") {
		t.Fatalf("exit %d:\n%s", code, msg)
	}
}

func TestKeysGuardTheAPIButNotHealth(t *testing.T) {
	url, _, _ := startServe(t, map[string]any{"apiKeys": []any{map[string]any{"id": "n8n", "env": "TW_TEST_KEY"}}}, map[string]string{"TW_TEST_KEY": "a-long-enough-test-key"})
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/v1/actions": 401} {
		resp, err := http.Get(url + path)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/v1/actions", nil)
	req.Header.Set("Authorization", "Bearer a-long-enough-test-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("with key: %v %v", resp, err)
	}
	resp.Body.Close()
}

// SIGTERM with an action stuck upstream: serve waits the grace period, then
// answers the caller 503 outcome-unknown, writes the outcome event saying so
// beside the intent written before the call, and names the action in the log.
func TestShutdownAnswersCutOffActions(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/connect/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token": "at", "token_type": "Bearer", "expires_in": 3600}`))
			return
		}
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hung.Close()
	defer close(release)
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	url, stop, errOut := startServe(t, map[string]any{
		"destinations": map[string]any{"allowLoopback": true},
		"audit":        map[string]any{"sink": "file", "path": auditPath},
		"limits":       map[string]any{"shutdownGrace": "50ms", "retry": map[string]any{"maxAttempts": 1}},
		"profiles": map[string]any{"pbx": map[string]any{"provider": "threecx", "connection": map[string]any{
			"baseUrl": hung.URL, "clientId": "svc", "clientSecret": map[string]any{"env": "TW_TEST_PBX_SECRET"}}}},
	}, map[string]string{"TW_TEST_PBX_SECRET": "pbx-secret-value"})
	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{"profile": "pbx", "input": {"id": 5}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Request-Id", "stuck-request-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- answer{status: resp.StatusCode, body: string(b)}
	}()
	<-arrived
	if code := stop(); code != 1 {
		t.Fatalf("exit %d", code)
	}
	a := <-answered
	if a.err != nil || a.status != 503 || !strings.Contains(a.body, "/problems/outcome-unknown") {
		t.Fatalf("the cut-off caller got %d %q (%v)", a.status, a.body, a.err)
	}
	var report map[string]any
	for _, line := range strings.Split(errOut.String(), "\n") {
		if strings.Contains(line, "cut off") {
			_ = json.Unmarshal([]byte(line), &report)
		}
	}
	ids, _ := report["request_ids"].([]any)
	if report["count"] != float64(1) || len(ids) != 1 || ids[0] != "stuck-request-1" {
		t.Fatalf("report %v in:\n%s", report, errOut.String())
	}
	events := readAudit(t, auditPath)
	if len(events) != 2 || events[0]["phase"] != "intent" || events[1]["phase"] != "outcome" ||
		events[1]["requestId"] != "stuck-request-1" || events[1]["outcome"] != "unknown" || events[1]["status"] != float64(503) {
		t.Fatalf("audit events %v", events)
	}
	if strings.Contains(errOut.String(), "pbx-secret-value") {
		t.Fatal("the profile secret reached the log")
	}
}

func readAudit(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			// A SIGKILL can cut the last line short; it was never fsync'd.
			continue
		}
		out = append(out, e)
	}
	return out
}

func TestMutualTLSListener(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCert(t, nil, nil, "test CA", true)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Raw)
	srvCert, srvKey := newCert(t, ca, caKey, "127.0.0.1", false)
	writePEM(t, filepath.Join(dir, "server.pem"), "CERTIFICATE", srvCert.Raw)
	writeKey(t, filepath.Join(dir, "server.key"), srvKey)
	cliCert, cliKey := newCert(t, ca, caKey, "n8n", false)

	url, _, _ := startServe(t, map[string]any{"tls": map[string]any{
		"certFile": filepath.Join(dir, "server.pem"), "keyFile": filepath.Join(dir, "server.key"), "clientCaFile": filepath.Join(dir, "ca.pem")}}, nil)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("url %s", url)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}}}
	}
	if _, err := client().Get(url + "/healthz"); err == nil {
		t.Fatal("a caller without a client certificate got in")
	}
	resp, err := client(tls.Certificate{Certificate: [][]byte{cliCert.Raw}, PrivateKey: cliKey}).Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("with a client certificate: %v %v", resp, err)
	}
	resp.Body.Close()
}

func newCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:        isCA, BasicConstraintsValid: true,
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t *testing.T, path string, key *ecdsa.PrivateKey) {
	t.Helper()
	der, _ := x509.MarshalECPrivateKey(key)
	writePEM(t, path, "EC PRIVATE KEY", der)
}

func TestCheckCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ok.json")
	t.Setenv("TW_CHECK_KEY", "check-key-0123456789")
	_ = os.WriteFile(path, []byte(`{"listen": "0.0.0.0:8787", "apiKeys": [{"id": "n8n", "env": "TW_CHECK_KEY"}], "destinations": {"allow": ["pbx.example.com"]}}`), 0o600)
	var out, errOut testlog.Buffer
	if code := run(context.Background(), []string{"check", "--config", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "api keys:     n8n") || strings.Contains(out.String(), "check-key-0123456789") {
		t.Fatalf("output:\n%s", out.String())
	}
	_ = os.WriteFile(path, []byte(`{"listen": "0.0.0.0:8787"}`), 0o600)
	var out2, errOut2 testlog.Buffer
	if code := run(context.Background(), []string{"check", "--config", path}, &out2, &errOut2); code != 1 || !strings.Contains(out2.String(), "serve will refuse to start") {
		t.Fatalf("exit %d:\n%s", code, out2.String())
	}
}
