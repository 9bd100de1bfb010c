package threecx_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

// frontedPBX puts a misbehaving "proxy" in front of the emulator: answers
// the XAPI path ending in the given suffix itself, passes the rest.
func frontedPBX(t *testing.T, suffix string, answer http.HandlerFunc) (*threecxemu.Emulator, json.RawMessage, *action.Registry) {
	t.Helper()
	emu := threecxemu.New(threecxemu.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, suffix) {
			answer(w, r)
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	id, secret := emu.Credentials()
	conn, _ := json.Marshal(map[string]string{"baseUrl": srv.URL, "clientId": id, "clientSecret": secret})
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return emu, conn, reg
}

func invokeProblem(t *testing.T, reg *action.Registry, conn json.RawMessage, id, input string) *action.Problem {
	t.Helper()
	_, err := reg.Invoke(context.Background(), id, action.Envelope{Connection: conn, Input: json.RawMessage(input)})
	var p *action.Problem
	if !errors.As(err, &p) {
		t.Fatalf("want a problem, got %v", err)
	}
	return p
}

func TestProxyHTMLPageBecomesReadableProblem(t *testing.T) {
	_, conn, reg := frontedPBX(t, "/SecurityTokens(7)/Pbx.RevokeToken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"))
	})
	p := invokeProblem(t, reg, conn, "threecx.revokeSecurityToken", `{"id": 7}`)
	if p.Kind() != action.KindUpstreamError || p.Upstream.Status != 502 || !strings.Contains(p.Detail, `HTML page titled "502 Bad Gateway"`) {
		t.Fatalf("got %+v / %s", p, p.Detail)
	}
	if strings.Contains(p.Detail, "<center>") {
		t.Fatalf("markup leaked into the detail: %s", p.Detail)
	}
}

func TestEmptyErrorBodyKeepsStatus(t *testing.T) {
	_, conn, reg := frontedPBX(t, "/SecurityTokens(8)/Pbx.RevokeToken", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	})
	p := invokeProblem(t, reg, conn, "threecx.revokeSecurityToken", `{"id": 8}`)
	if p.Kind() != action.KindForbiddenUpstream || p.Status != 403 || p.Upstream.Status != 403 {
		t.Fatalf("got %+v", p)
	}
}

func TestPersistent401SignsInOnceMoreThenStops(t *testing.T) {
	emu, conn, reg := frontedPBX(t, "/SecurityTokens(9)/Pbx.RevokeToken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	p := invokeProblem(t, reg, conn, "threecx.revokeSecurityToken", `{"id": 9}`)
	if p.Kind() != action.KindUpstreamAuth || p.Upstream.Status != 401 {
		t.Fatalf("got %+v", p)
	}
	if got := emu.TokenRequests(); got != 2 {
		t.Fatalf("%d token requests, want 2 (the first sign-in and exactly one retry)", got)
	}
}

func TestGeneratedTokenMissingIsNotSilent(t *testing.T) {
	_, conn, reg := frontedPBX(t, "/ServicePrincipals(33)/Pbx.GenerateAppToken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	})
	p := invokeProblem(t, reg, conn, "threecx.generateAppToken", `{"id": 33}`)
	if p.Kind() != action.KindUpstreamError || !strings.Contains(p.Detail, "may or may not have been generated") {
		t.Fatalf("got %+v", p)
	}
}

func TestUnreachablePBX(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := json.Marshal(map[string]string{"baseUrl": url, "clientId": "a", "clientSecret": "b"})
	p := invokeProblem(t, reg, conn, "threecx.listRefreshTokens", `{}`)
	if p.Kind() != action.KindUpstreamUnreachable || p.Status != 502 {
		t.Fatalf("got %+v", p)
	}
}
