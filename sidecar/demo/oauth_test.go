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
	examples = append(examples, up.Examples...)
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
