package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// Canary values: no log line or problem may ever contain them.
const (
	canaryToken  = "tok-CANARY-7d1f0c9e"
	canarySecret = "sec CANARY+/:%&="
)

// harness builds clients whose logs are captured and checked for secrets
// when the test ends, and whose waits (the one retry policy's, that of
// upstream.DefaultConfig) are recorded instead of slept.
type harness struct {
	t     *testing.T
	log   *slog.Logger
	logs  *bytes.Buffer
	waits []time.Duration
}

func newHarness(t *testing.T, secrets ...string) *harness {
	t.Helper()
	h := &harness{t: t, logs: &bytes.Buffer{}}
	var mu sync.Mutex
	h.log = slog.New(slog.NewJSONHandler(lockedWriter{&mu, h.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range append(secrets, canaryToken, canarySecret) {
			if strings.Contains(h.logs.String(), s) {
				t.Errorf("a log line contains the secret %q:\n%s", s, h.logs)
			}
		}
	})
	return h
}

// client builds a client for conn the way the provider's Open does.
func (h *harness) client(conn Connection) *Client {
	h.t.Helper()
	cfg := upstream.DefaultConfig()
	cfg.Retry.Wait = func(_ context.Context, d time.Duration) error { h.waits = append(h.waits, d); return nil }
	hc, err := upstream.NewFactory(cfg).Client(conn.TLS)
	if err != nil {
		h.t.Fatal(err)
	}
	return NewClient(conn, hc, Options{Logger: h.log})
}

// Revoke revokes with a fresh client for conn.
func (h *harness) Revoke(ctx context.Context, conn Connection, req Request) (*Result, error) {
	return h.client(conn).Revoke(ctx, req)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// seen is one request as the fake server received it.
type seen struct {
	header http.Header
	body   string
	path   string
}

// fakeServer answers with fn and records every request.
func fakeServer(t *testing.T, fn func(w http.ResponseWriter, r *http.Request, n int)) (*httptest.Server, *[]seen) {
	t.Helper()
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Header.Clone(), string(b), r.URL.Path})
		n := len(got)
		mu.Unlock()
		fn(w, r, n)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func ok200(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusOK) }

func conn(url string) Connection {
	return Connection{RevocationURL: url, ClientID: "my client", ClientSecret: canarySecret}
}

// problemOf asserts err is a problem of the wanted kind, free of secrets.
func problemOf(t *testing.T, err error, want action.Kind) *action.Problem {
	t.Helper()
	var p *action.Problem
	if !errors.As(err, &p) {
		t.Fatalf("want a %s problem, got %v", want, err)
	}
	if p.Kind() != want {
		t.Fatalf("want kind %s, got %s: %s", want, p.Kind(), p.Detail)
	}
	raw, _ := json.Marshal(p)
	for _, s := range []string{canaryToken, canarySecret} {
		if strings.Contains(string(raw), s) {
			t.Fatalf("problem carries a secret: %s", raw)
		}
	}
	return p
}

func TestRFC7009BasicAuthIsFormEncodedAndBodyHasNoCredentials(t *testing.T) {
	srv, got := fakeServer(t, ok200)
	res, err := newHarness(t).Revoke(context.Background(), conn(srv.URL+"/revoke"), Request{Token: canaryToken, TokenTypeHint: HintRefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	r := (*got)[0]
	if ct := r.header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("content type %q", ct)
	}
	form, _ := url.ParseQuery(r.body)
	if form.Get("token") != canaryToken || form.Get("token_type_hint") != "refresh_token" {
		t.Errorf("body %q", r.body)
	}
	if form.Has("client_id") || form.Has("client_secret") {
		t.Errorf("credentials in the body as well as the header: %q", r.body)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.header.Get("Authorization"), "Basic "))
	if want := url.QueryEscape("my client") + ":" + url.QueryEscape(canarySecret); string(raw) != want {
		t.Errorf("basic credentials %q, want form-encoded %q", raw, want)
	}
	if !res.Revoked || res.TokenFingerprint != Fingerprint(canaryToken) || res.UpstreamStatus != 200 || res.Attempts != 1 {
		t.Errorf("result %+v", res)
	}
}

func TestBasicWithoutFormEncodingSendsCredentialsAsTheyAre(t *testing.T) {
	srv, got := fakeServer(t, ok200)
	c := conn(srv.URL)
	c.BasicWithoutFormEncoding = true
	if _, err := newHarness(t).Revoke(context.Background(), c, Request{Token: canaryToken}); err != nil {
		t.Fatal(err)
	}
	req := http.Request{Header: (*got)[0].header}
	id, secret, _ := req.BasicAuth()
	if id != "my client" || secret != canarySecret {
		t.Errorf("basic credentials %q:%q", id, secret)
	}
}

func TestBodyAuthMethodsPutOnlyWhatTheyShouldInTheBody(t *testing.T) {
	for _, tc := range []struct {
		method     string
		wantID     bool
		wantSecret bool
	}{
		{AuthClientSecretPost, true, true},
		{AuthNone, true, false},
	} {
		t.Run(tc.method, func(t *testing.T) {
			srv, got := fakeServer(t, ok200)
			c := conn(srv.URL)
			c.ClientAuthMethod = tc.method
			if _, err := newHarness(t).Revoke(context.Background(), c, Request{Token: canaryToken}); err != nil {
				t.Fatal(err)
			}
			r := (*got)[0]
			if r.header.Get("Authorization") != "" {
				t.Error("Authorization header sent as well")
			}
			form, _ := url.ParseQuery(r.body)
			if form.Has("client_id") != tc.wantID || form.Has("client_secret") != tc.wantSecret {
				t.Errorf("body %q", r.body)
			}
			if tc.wantSecret && form.Get("client_secret") != canarySecret {
				t.Errorf("secret not sent intact")
			}
			if form.Has("token_type_hint") {
				t.Error("hint sent though none was given")
			}
		})
	}
}

func TestAny2xxIsSuccessWhateverTheBody(t *testing.T) {
	srv, _ := fakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNoContent)
	})
	res, err := newHarness(t).Revoke(context.Background(), conn(srv.URL), Request{Token: canaryToken})
	if err != nil || res.UpstreamStatus != http.StatusNoContent {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestServiceUnavailableIsRetriedThenSucceeds(t *testing.T) {
	srv, got := fakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n < 3 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h := newHarness(t)
	res, err := h.Revoke(context.Background(), conn(srv.URL), Request{Token: canaryToken})
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 3 || len(*got) != 3 {
		t.Errorf("attempts %d, requests %d", res.Attempts, len(*got))
	}
	if want := []time.Duration{2 * time.Second, 2 * time.Second}; !equalDurations(h.waits, want) {
		t.Errorf("waits %v, want Retry-After honoured %v", h.waits, want)
	}
}

func TestServiceUnavailableStormIsReportedAsStillActive(t *testing.T) {
	pol := upstream.DefaultRetryPolicy()
	for _, tc := range []struct {
		name       string
		retryAfter string
		requests   int
		wantRetry  int
	}{
		// Without Retry-After: the policy's attempts, each wait drawn
		// below a ceiling that doubles from BaseDelay.
		{"no Retry-After", "", pol.MaxAttempts, 0},
		// A Retry-After beyond the policy's budget is not waited for: the
		// caller is told to come back then.
		{"long Retry-After", "3600", 1, 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, got := fakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			h := newHarness(t)
			_, err := h.Revoke(context.Background(), conn(srv.URL), Request{Token: canaryToken})
			p := problemOf(t, err, action.KindOutcomeUnknown)
			if !strings.Contains(p.Detail, "may still be active") || !strings.Contains(p.Detail, fmt.Sprintf("%d time(s)", tc.requests)) {
				t.Errorf("detail %q", p.Detail)
			}
			if len(*got) != tc.requests || len(h.waits) != tc.requests-1 {
				t.Fatalf("%d requests, waits %v; want %d requests", len(*got), h.waits, tc.requests)
			}
			for i, d := range h.waits {
				if ceiling := min(pol.BaseDelay<<i, pol.MaxDelay); d <= 0 || d > ceiling {
					t.Errorf("wait %d is %v, want (0, %v]", i, d, ceiling)
				}
			}
			if p.RetryAfterSeconds != tc.wantRetry {
				t.Errorf("retryAfter %d", p.RetryAfterSeconds)
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestErrorAnswersBecomeDistinctProblems(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		ctype      string
		body       string
		want       action.Kind
		wantDetail string
		wantCode   string
	}{
		{"wrong secret", 401, "application/json", `{"error":"invalid_client","error_description":"Client authentication failed"}`,
			action.KindUpstreamAuth, "rejected the client credentials", "invalid_client"},
		{"invalid_client as 400", 400, "application/json", `{"error":"invalid_client"}`,
			action.KindUpstreamAuth, "rejected the client credentials", "invalid_client"},
		{"token of another client", 400, "application/json", `{"error":"unauthorized_client","error_description":"not yours"}`,
			action.KindForbiddenUpstream, "refused to let client", "unauthorized_client"},
		{"unsupported token type", 400, "application/json", `{"error":"unsupported_token_type"}`,
			action.KindUpstreamRejected, "unsupported_token_type", "unsupported_token_type"},
		{"HTML error page", 500, "text/html", `<html><head><title>500 Internal Server Error</title></head><body>` + canaryToken + `</body></html>`,
			action.KindUpstreamError, `HTML page titled "500 Internal Server Error"`, ""},
		{"HTML 401 page", 401, "text/html; charset=utf-8", `<h1>Unauthorized</h1>`,
			action.KindUpstreamAuth, "Unauthorized", ""},
		{"plain text echoing the token", 400, "text/plain", "bad token " + canaryToken,
			action.KindUpstreamRejected, "[redacted]", ""},
		{"rate limited", 429, "", "", action.KindUpstreamRateLimit, "429", ""},
		{"wrong endpoint", 404, "text/plain", "404 page not found", action.KindUpstreamNotFound, "check the revocation URL", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := newHarness(t).Revoke(context.Background(), conn(srv.URL), Request{Token: canaryToken})
			p := problemOf(t, err, tc.want)
			if !strings.Contains(p.Detail, tc.wantDetail) {
				t.Errorf("detail %q lacks %q", p.Detail, tc.wantDetail)
			}
			if p.Upstream == nil || p.Upstream.Status != tc.status || p.Upstream.Code != tc.wantCode {
				t.Errorf("upstream %+v", p.Upstream)
			}
		})
	}
}

func TestWrongSecretWithSpecialCharactersSuggestsRawBasic(t *testing.T) {
	srv, _ := fakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"invalid_client"}`)
	})
	_, err := newHarness(t).Revoke(context.Background(), conn(srv.URL), Request{Token: canaryToken})
	if p := problemOf(t, err, action.KindUpstreamAuth); !strings.Contains(p.Detail, "basicWithoutFormEncoding") {
		t.Errorf("detail %q", p.Detail)
	}
}

func TestRawBasicRefusedSuggestsFormEncoding(t *testing.T) {
	srv, _ := fakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"invalid_request"}`)
	})
	c := conn(srv.URL)
	c.BasicWithoutFormEncoding = true
	_, err := newHarness(t).Revoke(context.Background(), c, Request{Token: canaryToken})
	if p := problemOf(t, err, action.KindUpstreamRejected); !strings.Contains(p.Detail, "try turning it off") {
		t.Errorf("detail %q", p.Detail)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	target, targetGot := fakeServer(t, ok200)
	srv, _ := fakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusTemporaryRedirect)
	})
	_, err := newHarness(t).Revoke(context.Background(), conn(srv.URL), Request{Token: canaryToken})
	p := problemOf(t, err, action.KindUpstreamError)
	if !strings.Contains(p.Detail, "redirect") || !strings.Contains(p.Detail, "/elsewhere") {
		t.Errorf("detail %q", p.Detail)
	}
	if len(*targetGot) != 0 {
		t.Error("the redirect was followed, credentials and all")
	}
}

func TestUnreachableServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	_, err := newHarness(t).Revoke(context.Background(), conn(addr), Request{Token: canaryToken})
	p := problemOf(t, err, action.KindUpstreamUnreachable)
	if !strings.Contains(p.Detail, strings.TrimPrefix(addr, "http://")) {
		t.Errorf("detail %q does not name the host", p.Detail)
	}
}

func TestNexusDialectSendsJSONWithItsHintsAndBodyCredentials(t *testing.T) {
	srv, got := fakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { io.WriteString(w, "{}") })
	c := Connection{Dialect: DialectNexus, BaseURL: srv.URL + "/", ClientID: "MyClient", ClientSecret: canarySecret, ClientAuthMethod: AuthClientSecretPost}
	res, err := newHarness(t).Revoke(context.Background(), c, Request{Token: canaryToken, TokenTypeHint: HintAccessToken})
	if err != nil {
		t.Fatal(err)
	}
	r := (*got)[0]
	if r.path != NexusRevokePath || r.header.Get("Content-Type") != "application/json" || r.header.Get("Authorization") != "" {
		t.Errorf("path %q headers %v", r.path, r.header)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"token": canaryToken, "token_type_hint": "Access_Token", "client_id": "MyClient", "client_secret": canarySecret}
	if len(body) != len(want) {
		t.Errorf("body %v", body)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %q, want %q", k, body[k], v)
		}
	}
	if res.Endpoint != srv.URL+NexusRevokePath {
		t.Errorf("endpoint %q", res.Endpoint)
	}
}

func TestNexusErrorsAreMapped(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   action.Kind
	}{
		{400, `{"error":"INVALID_REQUEST","errorDescription":"Required parameter 'token' is null"}`, action.KindUpstreamRejected},
		{500, `{"error":"SERVER_ERROR","errorDescription":"Error when trying to revoke"}`, action.KindUpstreamError},
	} {
		srv, _ := fakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		})
		c := Connection{Dialect: DialectNexus, BaseURL: srv.URL, ClientID: "MyClient", ClientSecret: canarySecret}
		_, err := newHarness(t).Revoke(context.Background(), c, Request{Token: canaryToken})
		p := problemOf(t, err, tc.want)
		var oe oauthError
		json.Unmarshal([]byte(tc.body), &oe)
		if p.Upstream.Code != oe.Error || p.Upstream.Message != oe.NexusDescription || !strings.Contains(p.Detail, oe.NexusDescription) {
			t.Errorf("problem %+v upstream %+v", p, p.Upstream)
		}
	}
}

func TestDiscoveryFallsBackToOpenIDConfigurationAndIsCached(t *testing.T) {
	var issuer string
	srv, got := fakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		switch r.URL.Path {
		case "/tenant/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "revocation_endpoint": issuer + "/revoke"})
		case "/tenant/revoke":
			w.WriteHeader(http.StatusOK)
		default:
			http.NotFound(w, r)
		}
	})
	issuer = srv.URL + "/tenant"
	client := newHarness(t).client(Connection{Issuer: issuer, ClientID: "a", ClientSecret: canarySecret})
	for range 2 {
		res, err := client.Revoke(context.Background(), Request{Token: canaryToken})
		if err != nil {
			t.Fatal(err)
		}
		if res.Endpoint != issuer+"/revoke" {
			t.Fatalf("endpoint %q", res.Endpoint)
		}
	}
	var paths []string
	for _, s := range *got {
		paths = append(paths, s.path)
	}
	// RFC 8414 puts the well-known segment before the issuer's path.
	want := "/.well-known/oauth-authorization-server/tenant /tenant/.well-known/openid-configuration /tenant/revoke /tenant/revoke"
	if strings.Join(paths, " ") != want {
		t.Errorf("requests %v, want %s", paths, want)
	}
}

func TestDiscoveryRefusesMetadataOfAnotherIssuerAndMissingEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name string
		meta func(issuer string) map[string]string
		want string
	}{
		{"other issuer", func(string) map[string]string {
			return map[string]string{"issuer": "https://evil.example", "revocation_endpoint": "https://evil.example/revoke"}
		}, "names issuer"},
		{"no revocation endpoint", func(iss string) map[string]string { return map[string]string{"issuer": iss} }, "no revocation_endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var issuer string
			srv, got := fakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				json.NewEncoder(w).Encode(tc.meta(issuer))
			})
			issuer = srv.URL
			_, err := newHarness(t).Revoke(context.Background(), Connection{Issuer: issuer, ClientID: "a", ClientSecret: canarySecret}, Request{Token: canaryToken})
			if p := problemOf(t, err, action.KindUpstreamError); !strings.Contains(p.Detail, tc.want) {
				t.Errorf("detail %q", p.Detail)
			}
			if len(*got) != 1 {
				t.Errorf("%d requests; nothing may be revoked after bad metadata", len(*got))
			}
		})
	}
}

func TestDiscoveryWithNoMetadataSaysWhereItLooked(t *testing.T) {
	srv, _ := fakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { http.NotFound(w, r) })
	_, err := newHarness(t).Revoke(context.Background(), Connection{Issuer: srv.URL, ClientID: "a", ClientSecret: canarySecret}, Request{Token: canaryToken})
	p := problemOf(t, err, action.KindUpstreamError)
	if !strings.Contains(p.Detail, "oauth-authorization-server answered 404") || !strings.Contains(p.Detail, "openid-configuration answered 404") {
		t.Errorf("detail %q", p.Detail)
	}
}

func TestTLSClientAuthUsesTheMTLSEndpointAlias(t *testing.T) {
	var issuer string
	srv, got := fakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Method == http.MethodGet {
			json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "revocation_endpoint": issuer + "/revoke",
				"mtls_endpoint_aliases": map[string]string{"revocation_endpoint": issuer + "/mtls/revoke"}})
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	issuer = srv.URL
	pki := newPKI(t)
	certPEM, keyPEM := pki.clientPEM(t, mtlsName())
	res, err := newHarness(t).Revoke(context.Background(), Connection{Issuer: issuer, ClientID: "svc-mtls", ClientAuthMethod: AuthTLSClient,
		TLS: &upstream.TLSOptions{ClientCertPEM: certPEM, ClientKeyPEM: keyPEM}}, Request{Token: canaryToken})
	if err != nil {
		t.Fatal(err)
	}
	// RFC 8705 §5: a client using certificates uses the alias.
	if res.Endpoint != issuer+"/mtls/revoke" || (*got)[1].path != "/mtls/revoke" {
		t.Errorf("endpoint %q", res.Endpoint)
	}
	form, _ := url.ParseQuery((*got)[1].body)
	if form.Get("client_id") != "svc-mtls" || form.Has("client_secret") || (*got)[1].header.Get("Authorization") != "" {
		t.Errorf("body %q", (*got)[1].body)
	}
}
