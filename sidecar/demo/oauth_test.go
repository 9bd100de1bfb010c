package demo_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/demo"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/sidecartest"
)

// The demo's OAuth examples work as the banner prints them: each revokes a
// demo token through the sidecar, and the demo server then reports it
// inactive.
func TestDemoRevokesATokenThroughBothDialects(t *testing.T) {
	up, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close(context.Background()) })
	srv := sidecartest.Serve(t, httpapi.Options{DemoConnections: up.Connections})

	examples := []demo.Example{{Connection: "oauth", Action: "oauth.revokeToken", Input: up.Try["oauth.revokeToken"]}}
	for _, e := range up.Examples {
		if strings.HasPrefix(e.Action, "oauth.") {
			examples = append(examples, e)
		}
	}
	active := map[string]func(string) bool{
		"oauth": func(tok string) bool { return up.OAuth.Active(context.Background(), tok) },
		"nexus": up.Nexus.Active,
	}
	for _, e := range examples {
		token := e.Input.(map[string]any)["token"].(string)
		if !active[e.Connection](token) {
			t.Fatalf("%s: the demo token is inactive before the call", e.Connection)
		}
		body, _ := json.Marshal(map[string]any{"connection": up.Connections[e.Connection], "input": e.Input})
		resp, err := http.Post(srv.URL+"/v1/actions/"+e.Action, "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || active[e.Connection](token) {
			t.Errorf("%s: status %d, token still active: %v", e.Connection, resp.StatusCode, active[e.Connection](token))
		}
	}
	if len(examples) != 2 {
		t.Errorf("%d OAuth examples, want one per dialect", len(examples))
	}
}

// The lifecycle examples of the banner do what the issue promised from
// `make run`: a dry run leaves the 3CX token unrevoked, verify revokes it
// and says verified, the Appgate dry run over OU=ldap revokes nothing.
func TestDemoLifecycleExamples(t *testing.T) {
	up, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close(context.Background()) })
	srv := sidecartest.Serve(t, httpapi.Options{DemoConnections: up.Connections})
	revoked := func(id int) bool {
		raw, _ := up.ThreeCX.SecurityToken(int32(id))
		var tok map[string]any
		_ = json.Unmarshal(raw, &tok)
		return tok["Revoked"] != nil
	}
	seen := 0
	for _, e := range up.Examples {
		in, _ := e.Input.(map[string]any)
		if in["dryRun"] != true && in["verify"] != true {
			continue
		}
		seen++
		body, _ := json.Marshal(map[string]any{"connection": up.Connections[e.Connection], "input": e.Input})
		resp, err := http.Post(srv.URL+"/v1/actions/"+e.Action, "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %v: %d %v", e.Action, e.Input, resp.StatusCode, out)
		}
		switch {
		case e.Action == "threecx.revokeSecurityToken" && in["dryRun"] == true:
			if revoked(in["id"].(int)) {
				t.Fatal("the dry run revoked the token")
			}
		case e.Action == "threecx.revokeSecurityToken":
			if d := out["data"].(map[string]any); d["verified"] != true || !revoked(in["id"].(int)) {
				t.Fatalf("verify: %v", d)
			}
		case e.Action == "appgate.revokeDeviceTokens":
			if n := len(out["data"].([]any)); n == 0 || len(up.Appgate.Revocations()) != 0 {
				t.Fatalf("appgate dry run listed %d devices, %d revocations", n, len(up.Appgate.Revocations()))
			}
		}
	}
	if seen != 3 {
		t.Fatalf("%d lifecycle examples, want 3", seen)
	}
}
