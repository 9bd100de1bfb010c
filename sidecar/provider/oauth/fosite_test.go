package oauth

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/oauthdemo"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// These tests run the client against ory/fosite, a maintained OAuth 2.0
// server library, through oauthdemo (which registers clients around it and
// adds tls_client_auth through fosite's client-authentication hook).

const fositeUser, fositePassword = "alice", "wonderland"

type fositeServer struct {
	*oauthdemo.Server
	srv     *httptest.Server
	hc      *http.Client // trusts the server and carries svc-mtls's certificate
	clients map[string]oauthdemo.Client
}

func newFositeServer(t *testing.T, pki *testPKI) *fositeServer {
	t.Helper()
	clients := []oauthdemo.Client{
		{ID: "svc-basic", Secret: canarySecret, AuthMethod: AuthClientSecretBasic},
		{ID: "svc-post", Secret: canarySecret, AuthMethod: AuthClientSecretPost},
		{ID: "svc-public", AuthMethod: AuthNone},
		{ID: "svc-mtls", AuthMethod: AuthTLSClient, CertSubject: mtlsSubject},
	}
	s, err := oauthdemo.New(oauthdemo.Config{Clients: clients, Users: map[string]string{fositeUser: fositePassword}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s.Handler())
	// Certificates are verified when given (tls_client_auth) and optional
	// for every other method.
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pki.pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	certPEM, keyPEM := pki.clientPEM(t, mtlsName())
	f := &fositeServer{Server: s, srv: srv, hc: clientWithCert(t, pemOf(srv), certPEM, keyPEM), clients: map[string]oauthdemo.Client{}}
	for _, c := range clients {
		f.clients[c.ID] = c
	}
	return f
}

func (f *fositeServer) issuer() string        { return f.srv.URL }
func (f *fositeServer) revocationURL() string { return f.srv.URL + oauthdemo.RevokePath }
func (f *fositeServer) serverCAPEM() string   { return pemOf(f.srv) }

func (f *fositeServer) active(t *testing.T, token string) bool {
	return f.Active(context.Background(), token)
}

// tokens runs the password grant through the real token endpoint.
func (f *fositeServer) tokens(t *testing.T, clientID string) (string, string) {
	t.Helper()
	status, body := f.post(t, oauthdemo.PasswordGrant(f.srv.URL+oauthdemo.TokenPath, f.clients[clientID], fositeUser, fositePassword))
	tok, err := oauthdemo.ReadTokens(status, body)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken, tok.RefreshToken
}

func (f *fositeServer) refreshWorks(t *testing.T, clientID, refresh string) bool {
	t.Helper()
	req := oauthdemo.PasswordGrant(f.srv.URL+oauthdemo.TokenPath, f.clients[clientID], "", "")
	form, _ := url.ParseQuery(readAll(req.Body))
	for _, k := range []string{"username", "password", "scope"} {
		form.Del(k)
	}
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", refresh)
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader(form.Encode())), int64(len(form.Encode()))
	status, _ := f.post(t, req)
	return status == http.StatusOK
}

func (f *fositeServer) post(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := f.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func readAll(r io.Reader) string {
	b, _ := io.ReadAll(r)
	return string(b)
}

func TestFositeRevocationReallyRevokes(t *testing.T) {
	pki := newPKI(t)
	testRevocationReallyRevokes(t, newFositeServer(t, pki), pki)
}

func TestFositeRefusesWrongCredentialsAndKeepsTheToken(t *testing.T) {
	pki := newPKI(t)
	testRefusalsKeepTheToken(t, newFositeServer(t, pki), append(standardRefusals(t, pki),
		// fosite holds a client to its registered method.
		refusal{"Basic for a body client", Connection{ClientID: "svc-post", ClientSecret: canarySecret}, action.KindUpstreamAuth},
		// fosite form-decodes Basic credentials as RFC 6749 says; sent raw,
		// a secret with '%' cannot be decoded and is refused.
		refusal{"Basic without form-encoding", Connection{ClientID: "svc-basic", ClientSecret: canarySecret, BasicWithoutFormEncoding: true}, action.KindUpstreamRejected},
	))
}

// RFC 7009 §2.1 lets a client revoke only its own tokens. fosite keeps the
// token but answers 200, as it does for unknown tokens, so a 200 proves the
// request was accepted, not that this client owned the token.
func TestFositeKeepsAnotherClientsTokenButAnswers200(t *testing.T) {
	f := newFositeServer(t, newPKI(t))
	access, _ := f.tokens(t, "svc-basic")
	c := Connection{RevocationURL: f.revocationURL(), ClientID: "svc-post", ClientSecret: canarySecret, ClientAuthMethod: AuthClientSecretPost, TLS: &upstream.TLSOptions{CACertPEM: f.serverCAPEM()}}
	if _, err := newHarness(t, access).Revoke(context.Background(), c, Request{Token: access}); err != nil {
		t.Fatal(err)
	}
	if !f.active(t, access) {
		t.Fatal("another client revoked the token")
	}
}

func pemOf(srv *httptest.Server) string {
	return string(pemEncode("CERTIFICATE", srv.Certificate().Raw))
}
