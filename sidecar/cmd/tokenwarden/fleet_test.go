package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/redistest"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"
)

const fleetTokenKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func TestFleetRedisGoneIsSaidPlainly(t *testing.T) {
	srv := redistest.Start(t)
	t.Setenv("TW_REDIS", srv.URL)
	t.Setenv("TW_TOKEN_KEY", fleetTokenKey)
	cfg := map[string]any{"redis": map[string]any{"url": map[string]string{"env": "TW_REDIS"}, "tokenKey": map[string]string{"env": "TW_TOKEN_KEY"}}}
	url, _, stderr := startServe(t, cfg, nil)
	get := func(path string) string {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s %s", path, resp.Status, b)
		}
		return string(b)
	}
	if body := get("/readyz"); !strings.Contains(body, `"ready"`) {
		t.Fatal(body)
	}
	if m := get("/metrics"); !strings.Contains(m, "tokenwarden_fleet_degraded 0") {
		t.Fatal("no fleet metric")
	}
	srv.Kill()
	// The sidecar notices on its next ping (every 5 s) or on the first
	// request that needs Redis, whichever comes first.
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/actions/oauth.revokeToken", strings.NewReader(`{"connection": {}, "input": {}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "k-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), "idempotency-store-unavailable") {
		t.Fatalf("%s %s", resp.Status, b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(get("/readyz"), `"degraded"`) {
		if time.Now().After(deadline) {
			t.Fatal("/readyz never said degraded")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m := get("/metrics"); !strings.Contains(m, "tokenwarden_fleet_degraded 1") {
		t.Fatal("metric not 1")
	}
	if n := strings.Count(stderr.String(), "fleet degraded"); n != 1 {
		t.Fatalf("%d warnings: %s", n, stderr.String())
	}

	// check reads the section and says Redis does not answer, without
	// printing the URL's secrets or the key.
	path := filepath.Join(t.TempDir(), "fleet.json")
	_ = os.WriteFile(path, []byte(`{"redis": {"url": {"env": "TW_REDIS"}, "tokenKey": {"env": "TW_TOKEN_KEY"}}}`), 0o600)
	var out, errOut testlog.Buffer
	t.Setenv("TW_REDIS", strings.Replace(srv.URL, "redis://", "redis://:CANARY-pw@", 1))
	if code := run(context.Background(), []string{"check", "--config", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "fleet redis:  "+srv.Addr+" does NOT answer") || strings.Contains(out.String()+errOut.String(), "CANARY") || strings.Contains(out.String(), fleetTokenKey) {
		t.Fatalf("%s\n%s", out.String(), errOut.String())
	}
}
