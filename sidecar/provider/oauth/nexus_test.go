package oauth

import (
	"context"
	"crypto/x509/pkix"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/nexusemu"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// The Nexus emulator follows the vendor page; these prove the client and it
// agree on every authentication path and that revocation really happens.

func TestNexusRevokesThroughEveryClientAuthMethod(t *testing.T) {
	pki := newPKI(t)
	emu := nexusemu.New(nexusemu.Client{ID: "MyClient", Secret: canarySecret, CertSubject: "CN=MyClient,O=Tokenwarden Test"})
	plain := httptest.NewServer(emu.Handler())
	t.Cleanup(plain.Close)
	mtls, caPEM := pki.mtlsServer(t, emu.Handler())
	certPEM, keyPEM := pki.clientPEM(t, pkix.Name{CommonName: "MyClient", Organization: []string{"Tokenwarden Test"}})

	for _, tc := range []struct {
		name string
		conn Connection
	}{
		{"basic without form-encoding", Connection{BaseURL: plain.URL, ClientAuthMethod: AuthClientSecretBasic, BasicWithoutFormEncoding: true}},
		{"body", Connection{BaseURL: plain.URL, ClientAuthMethod: AuthClientSecretPost, ClientSecret: canarySecret}},
		{"client certificate", Connection{BaseURL: mtls.URL, ClientAuthMethod: AuthTLSClient, TLS: &upstream.TLSOptions{CACertPEM: caPEM, ClientCertPEM: certPEM, ClientKeyPEM: keyPEM}}},
	} {
		for _, hint := range []string{HintAccessToken, HintRefreshToken, ""} {
			t.Run(tc.name+"/"+hint, func(t *testing.T) {
				access, refresh := emu.IssuePair("MyClient")
				c := tc.conn
				c.Dialect, c.ClientID = DialectNexus, "MyClient"
				if c.ClientAuthMethod == AuthClientSecretBasic {
					c.ClientSecret = canarySecret
				}
				target := access
				if hint == HintRefreshToken {
					target = refresh
				}
				if _, err := newHarness(t).Revoke(context.Background(), c, Request{Token: target, TokenTypeHint: hint}); err != nil {
					t.Fatal(err)
				}
				if emu.Active(target) {
					t.Fatal("token still active after revocation")
				}
				// Revoking a refresh token takes its access token with it.
				if emu.Active(access) {
					t.Error("access token still active")
				}
				if want := hint != HintRefreshToken; emu.Active(refresh) != want {
					t.Errorf("refresh token active = %v, want %v", emu.Active(refresh), want)
				}
			})
		}
	}
}

func TestNexusFailuresAreClearProblems(t *testing.T) {
	emu := nexusemu.New(nexusemu.Client{ID: "MyClient", Secret: "right"})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	access, _ := emu.IssuePair("MyClient")
	base := Connection{Dialect: DialectNexus, BaseURL: srv.URL, ClientID: "MyClient", ClientAuthMethod: AuthClientSecretPost}

	wrong := base
	wrong.ClientSecret = canarySecret
	_, err := newHarness(t).Revoke(context.Background(), wrong, Request{Token: access})
	if p := problemOf(t, err, action.KindUpstreamAuth); p.Upstream.Code != "INVALID_CLIENT" {
		t.Errorf("upstream %+v", p.Upstream)
	}

	emu.FailWithServerError(true)
	right := base
	right.ClientSecret = "right"
	_, err = newHarness(t, "right").Revoke(context.Background(), right, Request{Token: access})
	if p := problemOf(t, err, action.KindUpstreamError); p.Upstream.Message != "Error when trying to revoke" {
		t.Errorf("upstream %+v", p.Upstream)
	}
	if !emu.Active(access) {
		t.Error("token revoked despite the failures")
	}
}

func TestClientCertificateRefusedByTheServerIsAnAuthProblem(t *testing.T) {
	pki, stranger := newPKI(t), newPKI(t)
	emu := nexusemu.New(nexusemu.Client{ID: "MyClient", CertSubject: "CN=MyClient"})
	srv, caPEM := pki.mtlsServer(t, emu.Handler())
	certPEM, keyPEM := stranger.clientPEM(t, pkix.Name{CommonName: "MyClient"})
	_, err := newHarness(t).Revoke(context.Background(), Connection{Dialect: DialectNexus, BaseURL: srv.URL, ClientID: "MyClient",
		ClientAuthMethod: AuthTLSClient, TLS: &upstream.TLSOptions{CACertPEM: caPEM, ClientCertPEM: certPEM, ClientKeyPEM: keyPEM}}, Request{Token: canaryToken})
	problemOf(t, err, action.KindUpstreamAuth)
}

func TestUntrustedServerCertificateSaysWhatToDo(t *testing.T) {
	srv := httptest.NewTLSServer(nexusemu.New().Handler())
	t.Cleanup(srv.Close)
	c := Connection{Dialect: DialectNexus, BaseURL: srv.URL, ClientID: "MyClient", ClientSecret: canarySecret}
	_, err := newHarness(t).Revoke(context.Background(), c, Request{Token: canaryToken})
	if p := problemOf(t, err, action.KindUpstreamUnreachable); !strings.Contains(p.Detail, "caCertificatesPem") {
		t.Errorf("detail %q", p.Detail)
	}
	// Only on explicit request is the certificate not checked.
	c.TLS = &upstream.TLSOptions{AllowUnauthorizedCerts: true}
	_, err = newHarness(t).Revoke(context.Background(), c, Request{Token: canaryToken})
	problemOf(t, err, action.KindUpstreamAuth)
}
