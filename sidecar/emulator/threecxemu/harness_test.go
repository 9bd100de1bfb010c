package threecxemu_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testneed"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/specguard"
)

// pbx is an emulator under test. Its handler goes through specguard when the vendor's
// swagger.yaml is available, and the test fails at cleanup on any mismatch; deliberately
// malformed requests use raw, which bypasses the guard.
type pbx struct {
	t       *testing.T
	emu     *threecxemu.Emulator
	clock   *testclock.Clock
	handler http.Handler
	token   string
}

func newPBX(t *testing.T, opts threecxemu.Options) *pbx {
	t.Helper()
	c := testclock.New()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	p := &pbx{t: t, emu: threecxemu.New(opts), clock: c}
	p.handler = p.emu
	if g := loadGuard(t, false); g != nil {
		p.handler = g.Wrap(p.emu)
		t.Cleanup(func() {
			for _, v := range g.Violations() {
				t.Errorf("vendor spec violation: %s", v)
			}
		})
	}
	return p
}

// loadGuard returns a guard on 3CX's swagger.yaml, or nil (or a skip, when required) if the
// file is not beside the repository.
func loadGuard(t *testing.T, required bool) *specguard.Guard {
	t.Helper()
	path, err := specguard.VendorSpecPath("3cx-xapi-20.0.10", "swagger.yaml")
	if err != nil {
		if required {
			testneed.Missing(t, "3CX swagger.yaml not available, conformance not checked: %v", err)
		}
		return nil
	}
	// /connect/token is documented apart from the XAPI file; a bare 401 comes from the bearer
	// handler in front of the documented API.
	g, err := specguard.Load(path, "/xapi/v1", specguard.ExcludePrefix("/connect/"), specguard.AllowBodiless(http.StatusUnauthorized))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func serve(h http.Handler, req *http.Request) response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: body}
}

func (p *pbx) tokenRequest(form url.Values) response {
	req := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return serve(p.handler, req)
}

func (p *pbx) credentialsForm() url.Values {
	id, secret := p.emu.Credentials()
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
}

// signIn fetches an access token with the seeded credentials and remembers it.
func (p *pbx) signIn() string {
	p.t.Helper()
	res := p.tokenRequest(p.credentialsForm())
	if res.status != http.StatusOK {
		p.t.Fatalf("sign-in: %d %s", res.status, res.body)
	}
	p.token = res.json(p.t)["access_token"].(string)
	return p.token
}

func (p *pbx) request(method, target string) *http.Request {
	req := httptest.NewRequest(method, target, nil)
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	return req
}

// do sends an authenticated request through the guard.
func (p *pbx) do(method, target string) response { return serve(p.handler, p.request(method, target)) }

// raw sends an authenticated request past the guard, for requests the spec itself forbids.
func (p *pbx) raw(method, target string) response { return serve(p.emu, p.request(method, target)) }

func (p *pbx) get(target string) response { return p.do(http.MethodGet, target) }

// list GETs a collection and returns its envelope and entities.
func (p *pbx) list(target string) (map[string]any, []map[string]any) {
	p.t.Helper()
	res := p.get(target)
	if res.status != http.StatusOK {
		p.t.Fatalf("GET %s: %d %s", target, res.status, res.body)
	}
	env := res.json(p.t)
	var items []map[string]any
	for _, v := range env["value"].([]any) {
		items = append(items, v.(map[string]any))
	}
	return env, items
}

func ids(items []map[string]any) []int {
	out := make([]int, 0, len(items))
	for _, it := range items {
		out = append(out, int(it["Id"].(float64)))
	}
	return out
}

// vendorError decodes the vendor error envelope and checks its required members.
func vendorError(t *testing.T, res response) (message string, details []map[string]any) {
	t.Helper()
	env := res.json(t)
	e, ok := env["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", res.body)
	}
	if _, ok := e["code"].(string); !ok {
		t.Fatalf("error.code missing: %s", res.body)
	}
	message, _ = e["message"].(string)
	if message == "" {
		t.Fatalf("error.message missing: %s", res.body)
	}
	for _, d := range e["details"].([]any) {
		details = append(details, d.(map[string]any))
	}
	return message, details
}

func multipartBody(t *testing.T, form url.Values) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}
