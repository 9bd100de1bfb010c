//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The credentials' Test button runs in the n8n server, not in the CLI, so
// this test starts `n8n start`, signs up the owner and calls the same REST
// endpoint the editor calls when someone presses Test.

// The owner account every n8n server of the tests is set up with.
const (
	ownerEmail    = "e2e@tokenwarden.invalid"
	ownerPassword = "E2e-only-password-1"
)

type n8nServer struct {
	url    string
	client *http.Client
}

func startN8NServer(t *testing.T) *n8nServer {
	t.Helper()
	addr, err := freeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	port := addr[strings.LastIndex(addr, ":")+1:]
	// n8n 2.x always starts its task-runner broker, on 5679 unless told:
	// a port of its own lets n8n servers run side by side.
	broker, err := freeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(env.n8n.bin, "start")
	cmd.Env = append(append([]string{}, env.n8n.env...),
		"N8N_PORT="+port, "N8N_LISTEN_ADDRESS=127.0.0.1", "N8N_SECURE_COOKIE=false", "N8N_LOG_LEVEL=warn",
		"N8N_RUNNERS_BROKER_PORT="+broker[strings.LastIndex(broker, ":")+1:])
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { interrupt(cmd, 20*time.Second) })
	jar, _ := cookiejar.New(nil)
	s := &n8nServer{url: "http://127.0.0.1:" + port, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	owner := map[string]any{"email": ownerEmail, "firstName": "End", "lastName": "ToEnd", "password": ownerPassword}
	// Generous: n8n's start takes minutes on a loaded 2-core machine.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		// The REST routes appear a little after the health check says ok.
		// A user folder whose owner an earlier test set up signs in instead.
		status, _, err := s.post("/rest/owner/setup", owner)
		if err == nil && status == http.StatusOK {
			return s
		}
		if err == nil && status == http.StatusBadRequest {
			login := map[string]any{"emailOrLdapLoginId": owner["email"], "password": owner["password"]}
			if status, _, err = s.post("/rest/login", login); err == nil && status == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("n8n server not ready after 5 min (last: %d %v):\n%s", status, err, tail(logs.Bytes()))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (s *n8nServer) post(path string, body any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("browser-id", "tokenwarden-e2e") // n8n binds the session cookie to it
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("POST %s: not JSON: %.200s", path, raw)
	}
	return resp.StatusCode, out, nil
}

// testCredential presses Test on a stored credential with the given data.
func (s *n8nServer) testCredential(t *testing.T, cred map[string]any, data map[string]any) (status, message string) {
	t.Helper()
	c := map[string]any{"id": cred["id"], "name": cred["name"], "type": cred["type"], "data": data}
	code, body, err := s.post("/rest/credentials/test", map[string]any{"credentials": c})
	if err != nil || code != http.StatusOK {
		t.Fatalf("POST /rest/credentials/test: %d %v %v", code, body, err)
	}
	d, _ := body["data"].(map[string]any)
	return fmt.Sprint(d["status"]), fmt.Sprint(d["message"])
}

// secretField is the credential field each provider's sign-in depends on.
var secretField = map[string]string{"tokenwardenThreeCxApi": "apiKey", "tokenwardenAppgateSdpApi": "password", "tokenwardenOAuthRevocationApi": "clientSecret"}

func TestCredentialTestButton(t *testing.T) {
	creds, err := demoCredentials()
	if err != nil {
		t.Fatal(err)
	}
	s := startN8NServer(t)
	for _, cred := range creds {
		data := cred["data"].(map[string]any)
		typ := fmt.Sprint(cred["type"])
		t.Run(fmt.Sprint(cred["name"]), func(t *testing.T) {
			if status, msg := s.testCredential(t, cred, data); status != "OK" {
				t.Errorf("demo credential: %s %q, want OK", status, msg)
			}
			if field, ok := secretField[typ]; ok {
				if _, has := data[field]; has {
					wrong := clone(data)
					wrong[field] = "not-the-secret"
					status, msg := s.testCredential(t, cred, wrong)
					if status != "Error" || !strings.Contains(msg, "rejected these credentials") {
						t.Errorf("wrong %s: %s %q, want an error saying the credentials were rejected", field, status, msg)
					}
				}
			}
			bad := clone(data)
			bad["baseUrl"], bad["revocationUrl"] = "not a URL", "not a URL"
			if status, msg := s.testCredential(t, cred, bad); status != "Error" || !strings.Contains(msg, "missing or malformed") {
				t.Errorf("malformed URL: %s %q, want an error about malformed settings", status, msg)
			}
		})
	}
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
