package specguard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/specguard"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testneed"
)

// miniSpec mirrors the shapes that matter in the vendor files: an OData key template, an
// action answering 204, a collection, an error default and a separately documented token path.
const miniSpec = `openapi: 3.0.3
info: {title: mini, version: "1"}
servers: [{url: "https://vendor.example/api"}]
security: [{bearer: []}]
paths:
  /Things:
    get:
      parameters:
        - {name: $top, in: query, schema: {type: integer, minimum: 0}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [value]
                properties:
                  value:
                    type: array
                    items: {$ref: "#/components/schemas/Thing"}
        default: {$ref: "#/components/responses/error"}
  /Things({Id})/Ns.Retire:
    post:
      parameters:
        - {name: Id, in: path, required: true, schema: {type: integer, format: int32}}
      responses:
        "204": {description: done}
  /Things({Id}):
    patch:
      parameters:
        - {name: Id, in: path, required: true, schema: {type: integer, format: int32}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Thing"}
      responses:
        "204": {description: done}
        default: {$ref: "#/components/responses/error"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  responses:
    error:
      description: error
      content:
        application/json:
          schema:
            type: object
            required: [error]
            properties:
              error:
                type: object
                required: [code, message]
                properties:
                  code: {type: string}
                  message: {type: string}
  schemas:
    Thing:
      type: object
      properties:
        Id: {type: integer, format: int32}
        Name: {type: string, nullable: true}
`

func writeMini(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mini.yaml")
	if err := os.WriteFile(p, []byte(miniSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fake answers like a small vendor server; broken selects one way it breaks the contract.
func fake(broken string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/connect/token":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"x"}`)
		case r.Method == http.MethodGet && r.URL.Path == "/api/Things":
			w.Header().Set("Content-Type", "application/json")
			if broken == "body" {
				io.WriteString(w, `{"value":[{"Id":"seven","Name":3}]}`)
				return
			}
			io.WriteString(w, `{"value":[{"Id":7,"Name":"seven"},{"Id":8,"Name":null}]}`)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Ns.Retire"):
			if broken == "status" {
				w.WriteHeader(http.StatusOK)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"404","message":"no such thing"}}`)
		}
	})
}

func exchange(t *testing.T, h http.Handler, method, target, body string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestConformingTrafficHasNoViolations(t *testing.T) {
	g, err := specguard.Load(writeMini(t), "/api", specguard.ExcludePrefix("/connect/"))
	if err != nil {
		t.Fatal(err)
	}
	h := g.Wrap(fake(""))
	resp := exchange(t, h, "GET", "/api/Things?$top=2", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), `"seven"`) {
		t.Fatalf("body not passed through: %s", b)
	}
	exchange(t, h, "POST", "/api/Things(42)/Ns.Retire", "")
	exchange(t, h, "POST", "/api/Things(-3)/Ns.Retire", "")
	exchange(t, h, "PATCH", "/api/Things(42)", `{"Name":"renamed"}`)
	exchange(t, h, "POST", "/connect/token", "grant_type=client_credentials")
	if v := g.Violations(); len(v) != 0 {
		t.Fatalf("unexpected violations:\n%s", strings.Join(v, "\n"))
	}
}

func TestNonConformingTrafficIsRecorded(t *testing.T) {
	cases := []struct {
		name, broken, method, target, body, want string
	}{
		{"unknown path", "", "GET", "/api/Nothing", "", "not in the spec"},
		{"unknown method", "", "DELETE", "/api/Things", "", "not in the spec"},
		{"bad query parameter", "", "GET", "/api/Things?$top=many", "", `parameter "$top" in query`},
		{"key out of int32", "", "POST", "/api/Things(9999999999)/Ns.Retire", "", `parameter "Id" in path`},
		{"malformed key", "", "POST", "/api/Things(abc)/Ns.Retire", "", `parameter "Id" in path`},
		{"bad request body", "", "PATCH", "/api/Things(1)", `{"Name":5}`, "/Name"},
		{"undocumented status", "status", "POST", "/api/Things(1)/Ns.Retire", "", "status is not supported"},
		{"body against schema", "body", "GET", "/api/Things", "", "/value/0/Id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := specguard.Load(writeMini(t), "/api")
			if err != nil {
				t.Fatal(err)
			}
			exchange(t, g.Wrap(fake(c.broken)), c.method, c.target, c.body)
			v := g.Violations()
			if len(v) == 0 || !strings.Contains(strings.Join(v, "\n"), c.want) {
				t.Fatalf("want a violation containing %q, got %q", c.want, v)
			}
			g.Reset()
			if len(g.Violations()) != 0 {
				t.Fatal("Reset kept violations")
			}
		})
	}
}

func TestBodilessStatusesCanBeAllowed(t *testing.T) {
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	strict, err := specguard.Load(writeMini(t), "/api")
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, strict.Wrap(deny), "GET", "/api/Things", "")
	if len(strict.Violations()) != 1 {
		t.Fatalf("a bare 401 against a documented error body should be a violation, got %q", strict.Violations())
	}
	lenient, err := specguard.Load(writeMini(t), "/api", specguard.AllowBodiless(http.StatusUnauthorized))
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, lenient.Wrap(deny), "GET", "/api/Things", "")
	if v := lenient.Violations(); len(v) != 0 {
		t.Fatalf("AllowBodiless(401) still reported %q", v)
	}
}

func TestMissingSpecIsAnError(t *testing.T) {
	if _, err := specguard.Load(filepath.Join(t.TempDir(), "absent.yaml"), "/api"); err == nil {
		t.Fatal("want an error for an absent file")
	}
}

func vendorSpec(t *testing.T, parts ...string) string {
	t.Helper()
	p, err := specguard.VendorSpecPath(parts...)
	if err != nil {
		testneed.Missing(t, "vendor spec not here (expected at ../shared/vendor-specs beside the repo): %v", err)
	}
	return p
}

func TestThreeCXSpecMatchesODataKeyPaths(t *testing.T) {
	g, err := specguard.Load(vendorSpec(t, "3cx-xapi-20.0.10", "swagger.yaml"), "/xapi/v1")
	if err != nil {
		t.Fatal(err)
	}
	noContent := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := g.Wrap(noContent)
	exchange(t, h, "POST", "/xapi/v1/SecurityTokens(42)/Pbx.RevokeToken", "")
	exchange(t, h, "POST", "/xapi/v1/MyTokens(7)/Pbx.RevokeToken", "")
	if v := g.Violations(); len(v) != 0 {
		t.Fatalf("unexpected violations: %q", v)
	}
	exchange(t, h, "POST", "/xapi/v1/SecurityTokens(x)/Pbx.RevokeToken", "")
	if len(g.Violations()) != 1 {
		t.Fatalf("malformed key not reported: %q", g.Violations())
	}
}

func TestAppgateBundleLoads(t *testing.T) {
	p := vendorSpec(t, "appgate-sdp-api-v23", "bundled.yaml")
	// The bundle has examples that contradict their schemas and an optional path parameter.
	if _, err := specguard.Load(p, "/admin"); err == nil || !strings.Contains(err.Error(), "TolerateInvalidSpec") {
		t.Fatalf("strict load should fail and point at TolerateInvalidSpec, got %v", err)
	}
	g, err := specguard.Load(p, "/admin", specguard.TolerateInvalidSpec())
	if err != nil {
		t.Fatal(err)
	}
	noContent := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	req := httptest.NewRequest("POST", "/admin/on-boarded-devices/revoke-tokens", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	g.Wrap(noContent).ServeHTTP(httptest.NewRecorder(), req)
	for _, v := range g.Violations() {
		if strings.Contains(v, "not in the spec") {
			t.Fatalf("revoke-tokens route not found: %s", v)
		}
	}
}
