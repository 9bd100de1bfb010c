//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
)

func postAction(t *testing.T, url, id string, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url+"/v1/actions/"+id, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// rotate generates a new app token for the principal the profile signs in
// as, through the sidecar, and returns it. The PBX then refuses the old key
// at sign-in; access tokens already issued are ended too, so the next call
// must sign in again.
func rotate(t *testing.T, url string, emu *threecxemu.Emulator, clientID string) string {
	t.Helper()
	status, list := postAction(t, url, "threecx.listServicePrincipals", map[string]any{"profile": "pbx", "input": map[string]any{"filter": "Number eq '" + clientID + "'"}})
	principals, _ := list["data"].([]any)
	if status != 200 || len(principals) != 1 {
		t.Fatalf("finding the principal: %d %v", status, list)
	}
	id := principals[0].(map[string]any)["Id"]
	status, gen := postAction(t, url, "threecx.generateAppToken", map[string]any{"profile": "pbx", "input": map[string]any{"id": id}})
	if status != 200 {
		t.Fatalf("generating: %d %v", status, gen)
	}
	emu.InvalidateAccessTokens()
	if status, _ := postAction(t, url, "threecx.listRefreshTokens", map[string]any{"profile": "pbx", "input": map[string]any{"top": 1}}); status != 502 {
		t.Fatalf("before the reload the old key should be refused, got %d", status)
	}
	return gen["data"].(map[string]any)["appToken"].(string)
}

// waitWorking polls until the profile works again, with a generous bound.
func waitWorking(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body := postAction(t, url, "threecx.listRefreshTokens", map[string]any{"profile": "pbx", "input": map[string]any{"top": 1}})
		if status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sidecar did not pick up the rotated secret: %d %v", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func newPBX(t *testing.T) (*threecxemu.Emulator, string) {
	t.Helper()
	emu := threecxemu.New(threecxemu.Options{Now: testclock.New().Now})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv.URL
}

// The rotation flow of the issue: generate a new app token, write it to the
// secret file, keep working with no restart.
func TestRotatedSecretFileIsPickedUpWithoutRestart(t *testing.T) {
	emu, base := newPBX(t)
	clientID, key := emu.Credentials()
	dir := t.TempDir()
	secretFile, auditFile := filepath.Join(dir, "pbx-key"), filepath.Join(dir, "audit.jsonl")
	if err := os.WriteFile(secretFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _, logs := startServe(t, map[string]any{
		"destinations": map[string]any{"allowLoopback": true},
		"audit":        map[string]any{"sink": "file", "path": auditFile},
		"profiles": map[string]any{"pbx": map[string]any{"provider": "threecx",
			"connection": map[string]any{"baseUrl": base, "clientId": clientID, "clientSecret": map[string]any{"file": secretFile}}}},
	}, nil)
	waitWorking(t, url)
	newKey := rotate(t, url, emu, clientID)
	// As a secret store writes it: a new file renamed over the old.
	tmp := filepath.Join(dir, ".pbx-key.new")
	if err := os.WriteFile(tmp, []byte(newKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, secretFile); err != nil {
		t.Fatal(err)
	}
	waitWorking(t, url)
	if strings.Contains(logs.String(), newKey) {
		t.Fatal("the log holds the new key")
	}
	// The reload is in the audit trail, without the key.
	var trail []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if trail, _ = os.ReadFile(auditFile); bytes.Contains(trail, []byte(reloadAction)) {
			break
		}
	}
	var event map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(string(trail)), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil && e["action"] == reloadAction {
			event = e
		}
	}
	targets, _ := event["targets"].(map[string]any)
	if event["outcome"] != "succeeded" || targets["trigger"] != "file" || string(mustJSON(targets["changed"])) != `["pbx"]` {
		t.Fatalf("reload event %v in audit trail %s", event, trail)
	}
	if bytes.Contains(trail, []byte(newKey)) || bytes.Contains(trail, []byte(key)) {
		t.Fatal("the audit trail holds a key")
	}
}

// {"env"} references are re-read on SIGHUP.
func TestSIGHUPRereadsEnvironmentReferences(t *testing.T) {
	emu, base := newPBX(t)
	clientID, key := emu.Credentials()
	url, _, _ := startServe(t, map[string]any{
		"destinations": map[string]any{"allowLoopback": true},
		"audit":        map[string]any{"sink": "none"},
		"profiles": map[string]any{"pbx": map[string]any{"provider": "threecx",
			"connection": map[string]any{"baseUrl": base, "clientId": clientID, "clientSecret": map[string]any{"env": "TW_TEST_PBX_KEY"}}}},
	}, map[string]string{"TW_TEST_PBX_KEY": key})
	waitWorking(t, url)
	newKey := rotate(t, url, emu, clientID)
	t.Setenv("TW_TEST_PBX_KEY", newKey)
	// serve listens for SIGHUP from before it accepts calls, so this
	// cannot end the test process.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitWorking(t, url)
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// A caller key kept in a file is rotated the same way: the new key is let
// in and the old one refused, with no restart.
func TestRotatedAPIKeyFileIsPickedUp(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "caller-key")
	oldKey, newKey := "old-caller-key-0123456789", "new-caller-key-9876543210"
	if err := os.WriteFile(keyFile, []byte(oldKey), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _, _ := startServe(t, map[string]any{"apiKeys": []any{map[string]any{"id": "n8n", "file": keyFile}}}, nil)
	status := func(key string) int {
		req, _ := http.NewRequest(http.MethodGet, url+"/v1/actions", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status(oldKey) != 200 || status(newKey) != 401 {
		t.Fatal("before the rotation the old key should work and the new one not")
	}
	if err := os.WriteFile(keyFile, []byte(newKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); status(newKey) != 200; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the rotated caller key was not picked up")
		}
	}
	if status(oldKey) != 401 {
		t.Fatal("the old caller key still works after the rotation")
	}
}
