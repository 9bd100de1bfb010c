package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/oauthdemo"
)

// These tests run the client against ory/fosite, a maintained OAuth 2.0
// server library, through oauthdemo (which only registers clients around it).

const fositeUser, fositePassword = "alice", "wonderland"

// fositeServer runs oauthdemo on an httptest TLS server that verifies client
// certificates from pki when given (tls_client_auth) and accepts connections
// without one (every other method).
type fositeServer struct {
	*oauthdemo.Server
	srv     *httptest.Server
	caPEM   string
	clients map[string]oauthdemo.Client
}

func newFositeServer(t *testing.T, pki *testPKI) *fositeServer {
	t.Helper()
	clients := []oauthdemo.Client{
		{ID: "svc-basic", Secret: canarySecret, AuthMethod: AuthClientSecretBasic},
		{ID: "svc-post", Secret: canarySecret, AuthMethod: AuthClientSecretPost},
		{ID: "svc-public", AuthMethod: AuthNone},
		{ID: "svc-mtls", AuthMethod: AuthTLSClient, CertSubject: "CN=svc-mtls,O=Tokenwarden Test"},
	}
	s, err := oauthdemo.New(oauthdemo.Config{Clients: clients, Users: map[string]string{fositeUser: fositePassword}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pki.pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	f := &fositeServer{Server: s, srv: srv, caPEM: pemOf(srv), clients: map[string]oauthdemo.Client{}}
	for _, c := range clients {
		f.clients[c.ID] = c
	}
	return f
}

// tokens gets a fresh access and refresh token for the client through the
// real token endpoint, over hc (which carries a certificate for svc-mtls).
func (f *fositeServer) tokens(t *testing.T, hc *http.Client, clientID string) oauthdemo.Tokens {
	t.Helper()
	resp, err := hc.Do(oauthdemo.PasswordGrant(f.srv.URL+oauthdemo.TokenPath, f.clients[clientID], fositeUser, fositePassword))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	tok, err := oauthdemo.ReadTokens(resp.StatusCode, body)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// refreshWorks reports whether fosite still honours the refresh token.
func (f *fositeServer) refreshWorks(t *testing.T, hc *http.Client, clientID, refresh string) bool {
	t.Helper()
	req := oauthdemo.PasswordGrant(f.srv.URL+oauthdemo.TokenPath, f.clients[clientID], "", "")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	if c := f.clients[clientID]; c.AuthMethod != AuthClientSecretBasic {
		form.Set("client_id", c.ID)
		if c.AuthMethod == AuthClientSecretPost {
			form.Set("client_secret", c.Secret)
		}
	}
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.ContentLength = int64(len(form.Encode()))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestFositeRevocationReallyRevokes(t *testing.T) {
	pki := newPKI(t)
	f := newFositeServer(t, pki)
	certPEM, keyPEM := pki.clientPEM(t, pkix.Name{CommonName: "svc-mtls", Organization: []string{"Tokenwarden Test"}})
	mtlsPair, _ := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	hc := f.srv.Client()
	hc.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{mtlsPair}
	ctx := context.Background()

	for _, tc := range []struct {
		name string
		conn Connection
	}{
		{"basic via issuer discovery", Connection{Issuer: f.srv.URL, ClientID: "svc-basic", ClientSecret: canarySecret}},
		{"body credentials", Connection{RevocationURL: f.srv.URL + oauthdemo.RevokePath, ClientID: "svc-post", ClientSecret: canarySecret, ClientAuthMethod: AuthClientSecretPost}},
		{"public client", Connection{RevocationURL: f.srv.URL + oauthdemo.RevokePath, ClientID: "svc-public", ClientAuthMethod: AuthNone}},
		{"tls_client_auth via issuer discovery", Connection{Issuer: f.srv.URL, ClientID: "svc-mtls", ClientAuthMethod: AuthTLSClient, ClientCertificatePEM: certPEM, ClientKeyPEM: keyPEM}},
	} {
		for _, hint := range []string{HintAccessToken, HintRefreshToken} {
			t.Run(tc.name+"/"+hint, func(t *testing.T) {
				tok := f.tokens(t, hc, tc.conn.ClientID)
				target := tok.AccessToken
				if hint == HintRefreshToken {
					target = tok.RefreshToken
				}
				c := tc.conn
				c.CACertificatesPEM = f.caPEM
				if !f.Active(ctx, target) {
					t.Fatal("fresh token inactive")
				}
				res, err := newHarness(t, target).Revoke(ctx, c, Request{Token: target, TokenTypeHint: hint})
				if err != nil {
					t.Fatal(err)
				}
				if !res.Revoked || res.Endpoint != f.srv.URL+oauthdemo.RevokePath {
					t.Errorf("result %+v", res)
				}
				if f.Active(ctx, target) {
					t.Fatal("fosite still accepts the revoked token")
				}
				if hint == HintRefreshToken && f.refreshWorks(t, hc, c.ClientID, tok.RefreshToken) {
					t.Fatal("the revoked refresh token still buys new tokens")
				}
			})
		}
	}
}

func TestFositeRefusesWrongSecretsAndStrangersAndKeepsTheToken(t *testing.T) {
	pki := newPKI(t)
	f := newFositeServer(t, pki)
	hc := f.srv.Client()
	ctx := context.Background()
	tok := f.tokens(t, hc, "svc-basic")
	endpoint := f.srv.URL + oauthdemo.RevokePath
	stranger, strangerKey := newPKI(t).clientPEM(t, pkix.Name{CommonName: "svc-mtls", Organization: []string{"Tokenwarden Test"}})
	wrongSubject, wrongKey := pki.clientPEM(t, pkix.Name{CommonName: "someone-else"})

	for _, tc := range []struct {
		name string
		conn Connection
		want action.Kind
	}{
		{"wrong secret in Basic", Connection{ClientID: "svc-basic", ClientSecret: "not-the-secret"}, action.KindUpstreamAuth},
		{"wrong secret in body", Connection{ClientID: "svc-post", ClientSecret: "not-the-secret", ClientAuthMethod: AuthClientSecretPost}, action.KindUpstreamAuth},
		{"unknown client", Connection{ClientID: "nobody", ClientSecret: canarySecret}, action.KindUpstreamAuth},
		{"Basic for a body client", Connection{ClientID: "svc-post", ClientSecret: canarySecret}, action.KindUpstreamAuth},
		{"certificate from another CA", Connection{ClientID: "svc-mtls", ClientAuthMethod: AuthTLSClient, ClientCertificatePEM: stranger, ClientKeyPEM: strangerKey}, action.KindUpstreamAuth},
		{"certificate of another subject", Connection{ClientID: "svc-mtls", ClientAuthMethod: AuthTLSClient, ClientCertificatePEM: wrongSubject, ClientKeyPEM: wrongKey}, action.KindUpstreamAuth},
		// fosite decodes Basic credentials as RFC 6749 says; sent raw, a
		// secret with '%' cannot be decoded and is refused.
		{"Basic without form-encoding", Connection{ClientID: "svc-basic", ClientSecret: canarySecret, BasicWithoutFormEncoding: true}, action.KindUpstreamRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.conn
			c.RevocationURL, c.CACertificatesPEM = endpoint, f.caPEM
			_, err := newHarness(t, tok.AccessToken).Revoke(ctx, c, Request{Token: tok.AccessToken})
			problemOf(t, err, tc.want)
			if !f.Active(ctx, tok.AccessToken) {
				t.Fatal("the token was revoked by a refused request")
			}
		})
	}
}

// RFC 7009 §2.1 lets a client revoke only its own tokens. fosite keeps the
// token but answers 200, as it does for unknown tokens, so a 200 proves the
// request was accepted, not that this client owned the token.
func TestFositeKeepsAnotherClientsTokenButAnswers200(t *testing.T) {
	f := newFositeServer(t, newPKI(t))
	tok := f.tokens(t, f.srv.Client(), "svc-basic")
	c := Connection{RevocationURL: f.srv.URL + oauthdemo.RevokePath, CACertificatesPEM: f.caPEM, ClientID: "svc-post", ClientSecret: canarySecret, ClientAuthMethod: AuthClientSecretPost}
	if _, err := newHarness(t, tok.AccessToken).Revoke(context.Background(), c, Request{Token: tok.AccessToken}); err != nil {
		t.Fatal(err)
	}
	if !f.Active(context.Background(), tok.AccessToken) {
		t.Fatal("another client revoked the token")
	}
}

func pemOf(srv *httptest.Server) string {
	return string(pemEncode("CERTIFICATE", srv.Certificate().Raw))
}
