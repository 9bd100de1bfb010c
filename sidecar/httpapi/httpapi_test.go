package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/demo"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/sidecartest"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"
)

type sidecar struct {
	url   string
	demo  *demo.Upstreams
	logs  *testlog.Buffer
	ready *atomic.Bool
}

func start(t *testing.T) *sidecar {
	t.Helper()
	up, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close(context.Background()) })
	logs := &testlog.Buffer{}
	ready := &atomic.Bool{}
	ready.Store(true)
	srv := sidecartest.Serve(t, httpapi.Options{
		Logger: logs.Logger(), DemoConnections: up.Connections, DemoStats: up.Stats, Ready: ready, MaxBodyBytes: 64 << 10,
	})
	return &sidecar{url: srv.URL, demo: up, logs: logs, ready: ready}
}

func (s *sidecar) post(t *testing.T, path, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func (s *sidecar) get(t *testing.T, path string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(b) > 0 && json.Unmarshal(b, &out) != nil {
		t.Fatalf("%s %s: body is not a JSON object: %s", req.Method, req.URL.Path, b)
	}
	return resp, out
}

func (s *sidecar) conn(provider string) string {
	b, _ := json.Marshal(s.demo.Connections[provider])
	return string(b)
}

func wantProblem(t *testing.T, resp *http.Response, body map[string]any, status int, kind action.Kind) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %v", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q", ct)
	}
	if body["type"] != action.ProblemBase+string(kind) || body["detail"] == "" || body["status"] != float64(status) {
		t.Fatalf("problem %v, want type %s", body, kind)
	}
}

func fields(body map[string]any) map[string]string {
	out := map[string]string{}
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		m := e.(map[string]any)
		out[m["field"].(string)] = m["message"].(string)
	}
	return out
}

func TestActionsAreListedWithSchemas(t *testing.T) {
	s := start(t)
	resp, body := s.get(t, "/v1/actions")
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	byID := map[string]map[string]any{}
	for _, a := range body["actions"].([]any) {
		m := a.(map[string]any)
		byID[m["id"].(string)] = m
	}
	for _, id := range []string{"threecx.revokeSecurityToken", "threecx.listRefreshTokens", "threecx.listSecurityTokens", "threecx.generateAppToken"} {
		a, ok := byID[id]
		if !ok {
			t.Fatalf("%s missing", id)
		}
		if a["title"] == "" || a["description"] == "" || a["inputSchema"] == nil || a["outputSchema"] == nil {
			t.Fatalf("%s incomplete: %v", id, a)
		}
	}
	idSchema := byID["threecx.revokeSecurityToken"]["inputSchema"].(map[string]any)["properties"].(map[string]any)["id"].(map[string]any)
	if idSchema["type"] != "integer" || idSchema["maximum"] != float64(2147483647) {
		t.Fatalf("id schema not bundled: %v", idSchema)
	}
}

func TestInvokeOverHTTP(t *testing.T) {
	s := start(t)
	resp, body := s.post(t, "/v1/actions/threecx.listRefreshTokens", `{"connection": `+s.conn("threecx")+`, "input": {"top": 2, "count": true}}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %v", resp.Status, body)
	}
	if data, ok := body["data"].([]any); !ok || len(data) != 2 {
		t.Fatalf("data %v", body["data"])
	}
	if meta := body["meta"].(map[string]any); meta["count"].(float64) < 2 {
		t.Fatalf("meta %v", meta)
	}
}

func TestBadInputNamesEveryField(t *testing.T) {
	s := start(t)
	resp, body := s.post(t, "/v1/actions/threecx.revokeSecurityToken", `{"connection": {"baseUrl": "nope", "clientId": "x"}, "input": {"id": "abc"}}`)
	wantProblem(t, resp, body, 422, action.KindInvalidInput)
	f := fields(body)
	for _, name := range []string{"connection.baseUrl", "connection.clientSecret", "input.id"} {
		if f[name] == "" {
			t.Errorf("%s not named: %v", name, f)
		}
	}
}

func TestUnknownActionAndRoute(t *testing.T) {
	s := start(t)
	resp, body := s.post(t, "/v1/actions/threecx.revokeToken", `{}`)
	wantProblem(t, resp, body, 404, action.KindUnknownAction)
	if !strings.Contains(body["detail"].(string), "threecx.revokeSecurityToken") {
		t.Fatalf("no suggestion: %v", body["detail"])
	}
	resp, body = s.get(t, "/v2/nothing")
	wantProblem(t, resp, body, 404, action.KindUnknownAction)
}

func TestMalformedAndOversizedBodies(t *testing.T) {
	s := start(t)
	resp, body := s.post(t, "/v1/actions/threecx.listRefreshTokens", `{"connection": `)
	wantProblem(t, resp, body, 400, action.KindMalformedRequest)
	big := `{"connection": {}, "input": {"filter": "` + strings.Repeat("x", 70<<10) + `"}}`
	resp, body = s.post(t, "/v1/actions/threecx.listRefreshTokens", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d: %v", resp.StatusCode, body)
	}
}

func TestRequestIDRoundTrips(t *testing.T) {
	s := start(t)
	resp, body := s.post(t, "/v1/actions/threecx.revokeSecurityToken", `{}`, "X-Request-Id", "run-42.item-7")
	if resp.Header.Get("X-Request-Id") != "run-42.item-7" || body["instance"] != "urn:tokenwarden:request:run-42.item-7" {
		t.Fatalf("request id lost: %s / %v", resp.Header.Get("X-Request-Id"), body["instance"])
	}
	resp, _ = s.post(t, "/v1/actions/threecx.revokeSecurityToken", `{}`, "X-Request-Id", `bad id","level":"ERROR`)
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, "bad") {
		t.Fatalf("unsafe request id accepted: %q", got)
	}
}

func TestConnectionTest(t *testing.T) {
	s := start(t)
	resp, body := s.post(t, "/v1/connections/threecx/test", `{"connection": `+s.conn("threecx")+`}`)
	if resp.StatusCode != 200 || body["data"].(map[string]any)["ok"] != true {
		t.Fatalf("%s %v", resp.Status, body)
	}
	var bad map[string]any
	_ = json.Unmarshal([]byte(s.conn("threecx")), &bad)
	bad["clientSecret"] = "canary-wrong-secret-1234"
	b, _ := json.Marshal(map[string]any{"connection": bad})
	resp, body = s.post(t, "/v1/connections/threecx/test", string(b))
	wantProblem(t, resp, body, 502, action.KindUpstreamAuth)
	resp, body = s.post(t, "/v1/connections/nosuch/test", `{"connection": {}}`)
	wantProblem(t, resp, body, 404, action.KindUnknownAction)
}

func TestNoSecretInLogsOrProblems(t *testing.T) {
	s := start(t)
	var conn map[string]any
	_ = json.Unmarshal([]byte(s.conn("threecx")), &conn)
	realSecret := conn["clientSecret"].(string)
	var seen []string
	for _, body := range []string{
		`{"connection": ` + s.conn("threecx") + `, "input": {"top": 1}}`,
		`{"connection": ` + s.conn("threecx") + `, "input": {"id": 999999}}`,
		strings.Replace(`{"connection": `+s.conn("threecx")+`, "input": {"top": 1}}`, realSecret, "canary-wrong-secret-1234", 1),
	} {
		for _, id := range []string{"threecx.listRefreshTokens", "threecx.revokeSecurityToken", "threecx.generateAppToken"} {
			req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/actions/"+id, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				seen = append(seen, string(b))
			}
		}
	}
	res, _ := s.post(t, "/v1/actions/threecx.generateAppToken", `{"connection": `+s.conn("threecx")+`, "input": {"id": 32}}`)
	_ = res
	logs := s.logs.String()
	for _, canary := range []string{realSecret, "canary-wrong-secret-1234"} {
		if strings.Contains(logs, canary) {
			t.Fatalf("logs contain a secret:\n%s", logs)
		}
		for _, p := range seen {
			if strings.Contains(p, canary) {
				t.Fatalf("a problem echoes a secret: %s", p)
			}
		}
	}
	if !strings.Contains(logs, `"action":"threecx.listRefreshTokens"`) {
		t.Fatalf("access log lacks the action: %s", logs)
	}
}

func TestGeneratedAppTokenNeverLogged(t *testing.T) {
	s := start(t)
	resp, body := s.post(t, "/v1/actions/threecx.generateAppToken", `{"connection": `+s.conn("threecx")+`, "input": {"id": 32}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %v", resp.Status, body)
	}
	token := body["data"].(map[string]any)["appToken"].(string)
	if token == "" || strings.Contains(s.logs.String(), token) {
		t.Fatalf("app token empty or logged")
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := start(t)
	if resp, _ := s.get(t, "/healthz"); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	if resp, _ := s.get(t, "/readyz"); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	s.ready.Store(false)
	if resp, _ := s.get(t, "/readyz"); resp.StatusCode != 503 {
		t.Fatalf("draining sidecar says %s", resp.Status)
	}
}

func TestDemoConnectionsServed(t *testing.T) {
	s := start(t)
	resp, body := s.get(t, "/v1/demo/connections")
	if resp.StatusCode != 200 || body["threecx"] == nil {
		t.Fatalf("%s %v", resp.Status, body)
	}
}

func TestDemoStatsCountSignIns(t *testing.T) {
	s := start(t)
	signIns := func() float64 {
		t.Helper()
		resp, body := s.get(t, "/v1/demo/stats")
		tcx, _ := body["threecx"].(map[string]any)
		n, ok := tcx["signIns"].(float64)
		if resp.StatusCode != 200 || !ok {
			t.Fatalf("%s %v", resp.Status, body)
		}
		return n
	}
	before := signIns()
	for i := 0; i < 3; i++ {
		if resp, body := s.post(t, "/v1/actions/threecx.listSecurityTokens", `{"connection": `+s.conn("threecx")+`, "input": {"top": 1}}`); resp.StatusCode != 200 {
			t.Fatalf("%s %v", resp.Status, body)
		}
	}
	if got := signIns() - before; got != 1 {
		t.Fatalf("three calls on one connection signed in %v times, want 1", got)
	}
}

func TestOpenAPIIsValid(t *testing.T) {
	s := start(t)
	resp, err := http.Get(s.url + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("openapi: %s: %s", e.Message, e.Reason)
		}
	}
	var parsed map[string]any
	_ = json.Unmarshal(spec, &parsed)
	paths := parsed["paths"].(map[string]any)
	for _, p := range []string{"/v1/actions/threecx.revokeSecurityToken", "/v1/actions/threecx.listRefreshTokens", "/v1/connections/threecx/test"} {
		if paths[p] == nil {
			t.Errorf("path %s missing", p)
		}
	}
	// The document's request schema must accept what the API accepts and
	// refuse what it refuses.
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:8787/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{"connection": `+s.conn("threecx")+`, "input": {"id": 3}}`))
	req.Header.Set("Content-Type", "application/json")
	if ok, verrs := v.ValidateHttpRequest(req); !ok {
		t.Errorf("a valid request fails the OpenAPI document: %v", verrs[0].Message)
	}
	req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1:8787/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{"connection": `+s.conn("threecx")+`, "input": {"id": "abc"}}`))
	req.Header.Set("Content-Type", "application/json")
	if ok, _ := v.ValidateHttpRequest(req); ok {
		t.Error("an invalid request passes the OpenAPI document")
	}
	// A profile stands in for the connection; both at once is refused.
	req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1:8787/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{"profile": "pbx", "input": {"id": 3}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "k-1")
	if ok, verrs := v.ValidateHttpRequest(req); !ok {
		t.Errorf("a profile request fails the OpenAPI document: %v", verrs[0].Message)
	}
	req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1:8787/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{"profile": "pbx", "connection": `+s.conn("threecx")+`, "input": {"id": 3}}`))
	req.Header.Set("Content-Type", "application/json")
	if ok, _ := v.ValidateHttpRequest(req); ok {
		t.Error("connection and profile together pass the OpenAPI document")
	}
}

func TestDegradedIsSaidButStillReady(t *testing.T) {
	var reason atomic.Value
	reason.Store("")
	srv := sidecartest.Serve(t, httpapi.Options{Degraded: func() string { return reason.Load().(string) }})
	s := &sidecar{url: srv.URL}
	if resp, body := s.get(t, "/readyz"); resp.StatusCode != 200 || body["status"] != "ready" {
		t.Fatal(resp.Status, body)
	}
	reason.Store("redis unreachable")
	if resp, body := s.get(t, "/readyz"); resp.StatusCode != 200 || body["status"] != "degraded" || body["reason"] != "redis unreachable" {
		t.Fatal(resp.Status, body)
	}
}
