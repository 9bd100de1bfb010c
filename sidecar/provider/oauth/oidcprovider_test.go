package oauth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testneed"
)

// These tests run the client against panva's oidc-provider, a maintained and
// OpenID-certified OAuth 2.0 server library for Node.js that implements
// revocation, introspection, discovery and RFC 8705 tls_client_auth itself.
// No Go server library other than fosite is available from the module proxy,
// so this one runs as a child process (testdata/oidcprovider), pinned by its
// package-lock.json and installed with npm ci on first use.

const oidcDir = "testdata/oidcprovider"

type oidcProvider struct {
	iss                string
	caPEM              string
	hc                 *http.Client // trusts the server and carries svc-mtls's certificate
	introspectorSecret string
}

var npmOnce sync.Once

func startOIDCProvider(t *testing.T, pki *testPKI) *oidcProvider {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testneed.Missing(t, "Node.js is not installed; the oidc-provider tests need node 20+ and npm")
	}
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(oidcDir, "node_modules", "oidc-provider")); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = oidcDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", oidcDir, err, out)
		}
	})
	if _, err := os.Stat(filepath.Join(oidcDir, "node_modules", "oidc-provider")); err != nil {
		t.Fatal("oidc-provider is not installed in " + oidcDir)
	}

	certPEM, keyPEM := pki.serverPEM(t)
	p := &oidcProvider{caPEM: pki.caPEM(), introspectorSecret: "introspector-secret"}
	// The deadline only stops a hung child; no assertion depends on timing.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, node, "server.mjs")
	cmd.Dir = oidcDir
	cmd.Env = append(os.Environ(),
		"NODE_ENV=test", "TW_CLIENT_SECRET="+canarySecret, "TW_INTROSPECTOR_SECRET="+p.introspectorSecret,
		"TW_TLS_CERT="+certPEM, "TW_TLS_KEY="+keyPEM, "TW_CLIENT_CA="+pki.caPEM())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var hello struct{ Issuer string }
	if err != nil || json.Unmarshal([]byte(line), &hello) != nil || hello.Issuer == "" {
		cancel()
		cmd.Wait()
		t.Fatalf("oidc-provider did not start: %v %q\n%s", err, line, stderr.String())
	}
	p.iss = hello.Issuer
	mtlsCert, mtlsKey := pki.clientPEM(t, mtlsName())
	p.hc = clientWithCert(t, p.caPEM, mtlsCert, mtlsKey)
	return p
}

func (p *oidcProvider) issuer() string        { return p.iss }
func (p *oidcProvider) revocationURL() string { return p.iss + "/token/revocation" }
func (p *oidcProvider) serverCAPEM() string   { return p.caPEM }

func (p *oidcProvider) tokens(t *testing.T, clientID string) (string, string) {
	t.Helper()
	resp, err := p.hc.Get(p.iss + "/test/tokens?client_id=" + url.QueryEscape(clientID))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := readAll(resp.Body)
	var tok struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(body), &tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("minting tokens: %d %s", resp.StatusCode, body)
	}
	return tok.Access, tok.Refresh
}

// active asks the library's RFC 7662 introspection endpoint.
func (p *oidcProvider) active(t *testing.T, token string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.iss+"/token/introspection", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("introspector", p.introspectorSecret)
	resp, err := p.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct{ Active *bool }
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || m.Active == nil {
		t.Fatalf("introspection answered %d without 'active'", resp.StatusCode)
	}
	return *m.Active
}

func (p *oidcProvider) refreshWorks(t *testing.T, clientID, refresh string) bool {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {clientID}}
	switch clientID {
	case "svc-post":
		form.Set("client_secret", canarySecret)
	case "svc-basic":
		form.Del("client_id")
	}
	req, _ := http.NewRequest(http.MethodPost, p.iss+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID == "svc-basic" {
		req.SetBasicAuth("svc-basic", url.QueryEscape(canarySecret))
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestOIDCProviderRevocationReallyRevokes(t *testing.T) {
	pki := newPKI(t)
	// oidc-provider publishes only /.well-known/openid-configuration, so the
	// issuer cases also prove the fallback from RFC 8414's location.
	testRevocationReallyRevokes(t, startOIDCProvider(t, pki), pki)
}

func TestOIDCProviderRefusesWrongCredentialsAndKeepsTheToken(t *testing.T) {
	pki := newPKI(t)
	testRefusalsKeepTheToken(t, startOIDCProvider(t, pki), append(standardRefusals(t, pki),
		// Unlike fosite, oidc-provider refuses another client's token.
		refusal{"another client's token", Connection{ClientID: "svc-post", ClientSecret: canarySecret, ClientAuthMethod: AuthClientSecretPost}, action.KindUpstreamRejected},
	))
}
