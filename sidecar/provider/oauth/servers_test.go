package oauth

import (
	"context"
	"crypto/x509/pkix"
	"net/http"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// realServer is an OAuth server library run for the tests, with four clients
// registered: svc-basic and svc-post (secret canarySecret, by header and by
// body), svc-public (no authentication) and svc-mtls (tls_client_auth with
// subject "CN=svc-mtls,O=Tokenwarden Test", certificates from pki).
type realServer interface {
	issuer() string
	revocationURL() string
	// serverCAPEM is what the client must trust to reach the server.
	serverCAPEM() string
	// tokens issues a fresh access and refresh token to the client.
	tokens(t *testing.T, clientID string) (access, refresh string)
	// active asks the library whether it still accepts the token.
	active(t *testing.T, token string) bool
	// refreshWorks reports whether the refresh token still buys new tokens.
	refreshWorks(t *testing.T, clientID, refresh string) bool
}

const mtlsSubject = "CN=svc-mtls,O=Tokenwarden Test"

func mtlsName() pkix.Name {
	return pkix.Name{CommonName: "svc-mtls", Organization: []string{"Tokenwarden Test"}}
}

// clientWithCert is an HTTP client that trusts caPEM and presents the pair.
func clientWithCert(t *testing.T, caPEM, certPEM, keyPEM string) *http.Client {
	t.Helper()
	hc, err := upstream.NewFactory(upstream.DefaultConfig()).Client(&upstream.TLSOptions{CACertPEM: caPEM, ClientCertPEM: certPEM, ClientKeyPEM: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// testRevocationReallyRevokes revokes access and refresh tokens with every
// client-authentication method, discovering the endpoint from the issuer
// for some, and asks the library whether the tokens still work.
func testRevocationReallyRevokes(t *testing.T, srv realServer, pki *testPKI) {
	certPEM, keyPEM := pki.clientPEM(t, mtlsName())
	for _, tc := range []struct {
		name string
		conn Connection
	}{
		{"basic via issuer discovery", Connection{Issuer: srv.issuer(), ClientID: "svc-basic", ClientSecret: canarySecret}},
		{"body credentials", Connection{RevocationURL: srv.revocationURL(), ClientID: "svc-post", ClientSecret: canarySecret, ClientAuthMethod: AuthClientSecretPost}},
		{"public client", Connection{RevocationURL: srv.revocationURL(), ClientID: "svc-public", ClientAuthMethod: AuthNone}},
		{"tls_client_auth via issuer discovery", Connection{Issuer: srv.issuer(), ClientID: "svc-mtls", ClientAuthMethod: AuthTLSClient, TLS: &upstream.TLSOptions{ClientCertPEM: certPEM, ClientKeyPEM: keyPEM}}},
	} {
		for _, hint := range []string{HintAccessToken, HintRefreshToken, ""} {
			t.Run(tc.name+"/"+hint, func(t *testing.T) {
				access, refresh := srv.tokens(t, tc.conn.ClientID)
				target := access
				if hint == HintRefreshToken {
					target = refresh
				}
				if !srv.active(t, target) {
					t.Fatal("fresh token inactive")
				}
				c := tc.conn
				c = trusting(c, srv.serverCAPEM())
				res, err := newHarness(t, target).Revoke(context.Background(), c, Request{Token: target, TokenTypeHint: hint})
				if err != nil {
					t.Fatal(err)
				}
				if !res.Revoked || res.Endpoint != srv.revocationURL() {
					t.Errorf("result %+v", res)
				}
				if srv.active(t, target) {
					t.Fatal("the server still accepts the revoked token")
				}
				if hint == HintRefreshToken && srv.refreshWorks(t, c.ClientID, refresh) {
					t.Fatal("the revoked refresh token still buys new tokens")
				}
			})
		}
	}
}

// refusal is a request the server must refuse, keeping the token.
type refusal struct {
	name string
	conn Connection
	want action.Kind
}

// standardRefusals are refused by every server: wrong secrets, unknown
// clients, certificates from another CA or with another subject.
func standardRefusals(t *testing.T, pki *testPKI) []refusal {
	stranger, strangerKey := newPKI(t).clientPEM(t, mtlsName())
	other, otherKey := pki.clientPEM(t, pkix.Name{CommonName: "someone-else"})
	return []refusal{
		{"wrong secret in Basic", Connection{ClientID: "svc-basic", ClientSecret: "not-the-secret"}, action.KindUpstreamAuth},
		{"wrong secret in body", Connection{ClientID: "svc-post", ClientSecret: "not-the-secret", ClientAuthMethod: AuthClientSecretPost}, action.KindUpstreamAuth},
		{"unknown client", Connection{ClientID: "nobody", ClientSecret: canarySecret}, action.KindUpstreamAuth},
		{"certificate from another CA", Connection{ClientID: "svc-mtls", ClientAuthMethod: AuthTLSClient, TLS: &upstream.TLSOptions{ClientCertPEM: stranger, ClientKeyPEM: strangerKey}}, action.KindUpstreamAuth},
		{"certificate of another subject", Connection{ClientID: "svc-mtls", ClientAuthMethod: AuthTLSClient, TLS: &upstream.TLSOptions{ClientCertPEM: other, ClientKeyPEM: otherKey}}, action.KindUpstreamAuth},
	}
}

// testRefusalsKeepTheToken sends each refused request for a token of
// svc-basic and checks the problem and that the token still works.
func testRefusalsKeepTheToken(t *testing.T, srv realServer, refusals []refusal) {
	access, _ := srv.tokens(t, "svc-basic")
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.conn
			c.RevocationURL = srv.revocationURL()
			c = trusting(c, srv.serverCAPEM())
			_, err := newHarness(t, access).Revoke(context.Background(), c, Request{Token: access})
			problemOf(t, err, tc.want)
			if !srv.active(t, access) {
				t.Fatal("the token was revoked by a refused request")
			}
		})
	}
}

// trusting returns c with caPEM added to its TLS options.
func trusting(c Connection, caPEM string) Connection {
	var opts upstream.TLSOptions
	if c.TLS != nil {
		opts = *c.TLS
	}
	opts.CACertPEM = caPEM
	c.TLS = &opts
	return c
}
