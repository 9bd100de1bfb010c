package oauthdemo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRevokedTokenIsReportedInactiveByIntrospection(t *testing.T) {
	s, err := New(Config{
		Clients: []Client{{ID: "app", Secret: "app-secret", AuthMethod: "client_secret_basic"}},
		Users:   map[string]string{"alice": "wonderland"},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	tok, err := s.IssueTokens("app", "alice", "wonderland")
	if err != nil {
		t.Fatal(err)
	}
	introspect := func(token string) bool {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+IntrospectPath, strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", "app-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m struct{ Active bool }
		json.NewDecoder(resp.Body).Decode(&m)
		return m.Active
	}
	if !introspect(tok.AccessToken) || !s.Active(context.Background(), tok.RefreshToken) {
		t.Fatal("fresh tokens inactive")
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+RevokePath, strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "app-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || introspect(tok.AccessToken) || s.Active(context.Background(), tok.AccessToken) {
		t.Fatalf("revoke answered %d and the token is still active", resp.StatusCode)
	}
}

func TestMetadataNamesTheEndpointsUnderTheRequestedIssuer(t *testing.T) {
	s, _ := New(Config{})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + MetadataPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	if m["issuer"] != srv.URL || m["revocation_endpoint"] != srv.URL+RevokePath {
		t.Errorf("metadata %v", m)
	}
}

func TestRegistrationRefusesIncompleteClients(t *testing.T) {
	for _, c := range []Client{{ID: "a", AuthMethod: "client_secret_basic"}, {ID: "b", AuthMethod: "tls_client_auth"}, {ID: "c", AuthMethod: "magic"}} {
		if _, err := New(Config{Clients: []Client{c}}); err == nil {
			t.Errorf("client %+v accepted", c)
		}
	}
}

func TestDemoStartsWithActiveTokens(t *testing.T) {
	d, err := NewDemo(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Tokens) != 2 || d.Tokens[0].AccessToken == d.Tokens[1].AccessToken {
		t.Fatalf("tokens %+v", d.Tokens)
	}
	for _, tok := range d.Tokens {
		if !d.Active(context.Background(), tok.AccessToken) || !d.Active(context.Background(), tok.RefreshToken) {
			t.Error("a demo token is inactive at start")
		}
	}
}
