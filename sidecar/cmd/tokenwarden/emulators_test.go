//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/sidecartest"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"
)

// tokenwarden emulators --scale N: connections that work as they are, N more
// MyTokens (read to the end through the sidecar's returnAll), N more Appgate
// devices, and the record endpoint showing the upstream request a call made.
func TestEmulatorsServeReadyConnectionsAtScale(t *testing.T) {
	const scale = 250
	urls := make(chan string, 1)
	listening = func(u string) { urls <- u }
	t.Cleanup(func() { listening = func(string) {} })
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut testlog.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"emulators", "--listen", "127.0.0.1:0", "--scale", "250"}, &out, &errOut)
	}()
	var base string
	select {
	case base = <-urls:
	case code := <-done:
		t.Fatalf("emulators exited %d: %s", code, errOut.String())
	}
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("emulators exited %d: %s", code, errOut.String())
		}
	})

	var conns map[string]json.RawMessage
	getJSON(t, base+"/connections", &conns)
	for _, name := range []string{"threecx", "appgate", "oauth", "nexus"} {
		if len(conns[name]) == 0 {
			t.Fatalf("no %s connection in %v", name, conns)
		}
	}
	reg := sidecartest.Registry(t, nil)
	invoke := func(id, conn, input string) action.Result {
		t.Helper()
		res, err := reg.Invoke(context.Background(), id, action.Envelope{Connection: conns[conn], Input: json.RawMessage(input)})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return res
	}
	res := invoke("threecx.listRefreshTokens", "threecx", `{"returnAll": true, "top": 40, "count": true, "limit": 100000}`)
	b, _ := json.Marshal(res.Meta)
	var meta struct{ Count, Returned, Pages int }
	_ = json.Unmarshal(b, &meta)
	if meta.Count != threecxemu.SeededMyTokens+scale || meta.Returned != threecxemu.SeededMyTokens+scale || meta.Pages != (threecxemu.SeededMyTokens+scale+39)/40 {
		t.Errorf("MyTokens at scale: %s", b)
	}
	res = invoke("threecx.listSecurityTokens", "threecx", `{"top": 1, "count": true}`)
	b, _ = json.Marshal(res.Meta)
	_ = json.Unmarshal(b, &meta)
	if meta.Count < 2*scale {
		t.Errorf("SecurityTokens at scale: %s", b)
	}
	res = invoke("appgate.listOnboardedDevices", "appgate", `{}`)
	b, _ = json.Marshal(res.Data)
	var devices []json.RawMessage
	if _ = json.Unmarshal(b, &devices); len(devices) < scale {
		t.Errorf("Appgate devices at scale: %d", len(devices))
	}

	post, err := http.Post(base+"/record/threecx", "", nil)
	if err != nil || post.StatusCode != http.StatusNoContent {
		t.Fatalf("arm: %v %v", err, post)
	}
	invoke("threecx.revokeSecurityToken", "threecx", `{"id": 2}`)
	var rec recordedRequest
	getJSON(t, base+"/record/threecx", &rec)
	if rec.Method != http.MethodPost || rec.URI != "/xapi/v1/SecurityTokens(2)/Pbx.RevokeToken" || rec.Status != http.StatusNoContent || len(rec.Header["Authorization"]) != 1 {
		t.Errorf("recorded %+v", rec)
	}

	// The counters a fleet test reads, and a sign-in elsewhere on demand.
	var stats map[string]map[string]float64
	getJSON(t, base+"/stats", &stats)
	if tcx := stats["threecx"]; tcx["revokeRequests"] != 1 || tcx["signIns"] != 1 {
		t.Errorf("stats after one revocation: %v", stats)
	}
	post, err = http.Post(base+"/threecx/invalidate-tokens", "", nil)
	if err != nil || post.StatusCode != http.StatusNoContent {
		t.Fatalf("invalidate: %v %v", err, post)
	}
	invoke("threecx.listSecurityTokens", "threecx", `{"top": 1}`)
	getJSON(t, base+"/stats", &stats)
	if n := stats["threecx"]["signIns"]; n != 2 {
		t.Errorf("after the tokens were invalidated the sidecar signed in %v times in all, want 2", n)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
