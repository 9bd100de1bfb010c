package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
)

func writeConn(t *testing.T) (string, *threecxemu.Emulator) {
	t.Helper()
	emu := threecxemu.New(threecxemu.Options{})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return connFile(t, srv.URL, emu), emu
}

// connFile writes the connection to emu, served at baseURL, into a file
// for --connection.
func connFile(t *testing.T, baseURL string, emu *threecxemu.Emulator) string {
	t.Helper()
	id, secret := emu.Credentials()
	b, _ := json.Marshal(map[string]string{"baseUrl": baseURL, "clientId": id, "clientSecret": secret})
	path := filepath.Join(t.TempDir(), "pbx.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCallPrintsTheAPIAnswer(t *testing.T) {
	conn, _ := writeConn(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"call", "threecx.revokeSecurityToken", "--connection", conn, "--input", `{"id": 2}`}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	var res struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Data["revoked"] != true || res.Data["id"] != float64(2) {
		t.Fatalf("output %s", out.String())
	}
}

func TestCallInputFromFileAndFailureExitCode(t *testing.T) {
	conn, _ := writeConn(t)
	input := filepath.Join(t.TempDir(), "in.json")
	_ = os.WriteFile(input, []byte(`{"id": 987654}`), 0o600)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"call", "threecx.revokeSecurityToken", "--connection", conn, "--input", "@" + input}, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var p map[string]any
	if err := json.Unmarshal(out.Bytes(), &p); err != nil || p["status"] != float64(404) || !strings.HasSuffix(p["type"].(string), "/upstream-not-found") {
		t.Fatalf("output %s", out.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"call"}, {"call", "threecx.revokeSecurityToken"}, {"serve", "--bogus"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// The demo must print connections that work as printed.
func TestDemoBannerConnectionsWork(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut testlog.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"demo", "--listen", "127.0.0.1:0"}, &out, &errOut) }()
	var addr string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && addr == ""; time.Sleep(20 * time.Millisecond) {
		if s := out.String(); strings.Contains(s, "All actions") {
			addr = strings.Fields(strings.TrimPrefix(strings.SplitN(s, "\n", 2)[0], "Tokenwarden demo is running at "))[0]
		}
	}
	if addr == "" {
		cancel()
		t.Fatalf("no banner: %s %s", out.String(), errOut.String())
	}
	resp, err := http.Get(addr + "/v1/demo/connections")
	if err != nil {
		t.Fatal(err)
	}
	var conns map[string]json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&conns)
	resp.Body.Close()
	body := `{"connection": ` + string(conns["threecx"]) + `, "input": {"top": 1}}`
	resp, err = http.Post(addr+"/v1/actions/threecx.listRefreshTokens", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("demo connection does not work: %v %v", err, resp)
	}
	resp.Body.Close()
	// The OAuth demo tokens and introspection commands are part of the
	// banner a user copies from (and the n8n end-to-end test reads).
	for _, want := range []string{"curl -s " + addr + "/v1/actions/threecx.revokeSecurityToken", "OAuth (RFC 7009, ory/fosite) demo tokens:", "Technology Nexus emulator demo tokens:", "-d token="} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q", want)
		}
	}
	if !strings.Contains(out.String(), "curl -s "+addr+"/v1/actions/threecx.revokeSecurityToken") {
		t.Fatalf("banner lacks curl examples:\n%s", out.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo exit %d: %s", code, errOut.String())
	}
}

// A list that breaks off after its first page prints what arrived (meta
// truncated, with the problem) and exits 1: a script must not take part of
// a list for the whole.
func TestCallListBrokenOffExitsOne(t *testing.T) {
	emu := threecxemu.New(threecxemu.Options{Scale: 300})
	inj := faults.Wrap(emu)
	inj.Add(faults.Rule{Method: http.MethodGet, Path: "/xapi/v1/MyTokens", Times: 1, Fault: func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(w, r) // the first page whole
	}})
	inj.Add(faults.Rule{Method: http.MethodGet, Path: "/xapi/v1/MyTokens", Fault: faults.Truncate(2000)})
	srv := httptest.NewServer(inj)
	t.Cleanup(srv.Close)
	conn := connFile(t, srv.URL, emu)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"call", "threecx.listRefreshTokens", "--connection", conn, "--input", `{"returnAll": true, "top": 100, "limit": 100000}`}, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut.String())
	}
	var res struct {
		Data []any          `json:"data"`
		Meta map[string]any `json:"meta"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Data) < 100 || res.Meta["truncated"] != true || res.Meta["problem"] == nil {
		t.Fatalf("output %.300s (%v)", out.String(), err)
	}
	if !strings.Contains(errOut.String(), "the list broke off") {
		t.Fatalf("stderr %q", errOut.String())
	}
}
