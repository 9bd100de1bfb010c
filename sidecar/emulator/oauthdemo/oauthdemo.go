// Package oauthdemo is a real RFC 7009 authorization server for the demo and
// the tests, built on ory/fosite: fosite issues, introspects (RFC 7662) and
// revokes the tokens; this package only registers clients, publishes RFC 8414
// metadata and adds RFC 8705 tls_client_auth, which fosite lacks, through
// fosite's client-authentication extension point.
package oauthdemo

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
	"golang.org/x/crypto/bcrypt"
)

// Endpoint paths below the issuer.
const (
	MetadataPath   = "/.well-known/oauth-authorization-server"
	TokenPath      = "/oauth2/token"
	RevokePath     = "/oauth2/revoke"
	IntrospectPath = "/oauth2/introspect"
)

// Client registers an OAuth client. AuthMethod is how it authenticates at
// every endpoint (client_secret_basic, client_secret_post, none or
// tls_client_auth); CertSubject is its tls_client_auth_subject_dn (RFC 8705
// §2.1.2) as crypto/x509 prints a subject, e.g. "CN=svc,O=Example".
type Client struct {
	ID          string
	Secret      string
	AuthMethod  string
	CertSubject string
}

// Config sets the server up. Issuer may be empty: it is then taken from each
// request's scheme and host, which suits loopback servers on random ports.
type Config struct {
	Issuer  string
	Clients []Client
	// Users may sign in with the password grant to get refresh tokens.
	Users map[string]string
}

// Server is the authorization server.
type Server struct {
	cfg      Config
	provider fosite.OAuth2Provider
	store    *storage.MemoryStore
	clients  map[string]Client
}

// New builds a server.
func New(cfg Config) (*Server, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	fcfg := &fosite.Config{
		GlobalSecret:        secret,
		AccessTokenLifespan: time.Hour,
		// Demo secrets are not stored long; a low cost keeps each
		// authentication fast.
		HashCost: bcrypt.MinCost,
	}
	s := &Server{cfg: cfg, store: storage.NewMemoryStore(), clients: map[string]Client{}}
	for _, c := range cfg.Clients {
		if err := s.register(c); err != nil {
			return nil, err
		}
	}
	for user, pass := range cfg.Users {
		s.store.Users[user] = storage.MemoryUserRelation{Username: user, Password: pass}
	}
	s.provider = compose.Compose(fcfg, s.store,
		&compose.CommonStrategy{CoreStrategy: compose.NewOAuth2HMACStrategy(fcfg)},
		compose.OAuth2ClientCredentialsGrantFactory,
		//lint:ignore SA1019 the demo mints tokens for its seeded users by the password grant; no real client uses this server
		compose.OAuth2ResourceOwnerPasswordCredentialsFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)
	fcfg.ClientAuthenticationStrategy = s.authenticateClient
	return s, nil
}

func (s *Server) register(c Client) error {
	switch c.AuthMethod {
	case "client_secret_basic", "client_secret_post":
		if c.Secret == "" {
			return fmt.Errorf("client %q: %s needs a secret", c.ID, c.AuthMethod)
		}
	case "none":
	case "tls_client_auth":
		if c.CertSubject == "" {
			return fmt.Errorf("client %q: tls_client_auth needs a certificate subject", c.ID)
		}
	default:
		return fmt.Errorf("client %q: unknown auth method %q", c.ID, c.AuthMethod)
	}
	var hash []byte
	if c.Secret != "" {
		var err error
		if hash, err = bcrypt.GenerateFromPassword([]byte(c.Secret), bcrypt.MinCost); err != nil {
			return err
		}
	}
	s.clients[c.ID] = c
	s.store.Clients[c.ID] = &fosite.DefaultOpenIDConnectClient{
		DefaultClient: &fosite.DefaultClient{
			ID:            c.ID,
			Secret:        hash,
			GrantTypes:    []string{"client_credentials", "password", "refresh_token"},
			ResponseTypes: []string{"token"},
			Scopes:        []string{"offline", "demo"},
			Public:        c.AuthMethod == "none",
		},
		TokenEndpointAuthMethod: c.AuthMethod,
	}
	return nil
}

// authenticateClient adds tls_client_auth: a client registered for it is
// authenticated by the subject of the certificate the TLS layer verified,
// and by nothing else. Every other client goes to fosite's own strategy.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	f := s.provider.(*fosite.Fosite)
	c, ok := s.clients[form.Get("client_id")]
	if !ok || c.AuthMethod != "tls_client_auth" {
		return f.DefaultClientAuthenticationStrategy(ctx, r, form)
	}
	if _, _, basic := r.BasicAuth(); basic || form.Has("client_secret") {
		return nil, fosite.ErrInvalidClient.WithHint("This client authenticates with tls_client_auth only.")
	}
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return nil, fosite.ErrInvalidClient.WithHint("This client must present a verified TLS client certificate.")
	}
	subject := r.TLS.VerifiedChains[0][0].Subject.String()
	if subtle.ConstantTimeCompare([]byte(subject), []byte(c.CertSubject)) != 1 {
		return nil, fosite.ErrInvalidClient.WithHint("The TLS client certificate does not match the client's registered subject.")
	}
	return s.store.GetClient(ctx, c.ID)
}

// Handler serves the metadata, token, revocation and introspection endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+MetadataPath, s.metadata)
	mux.HandleFunc("POST "+TokenPath, s.token)
	mux.HandleFunc("POST "+RevokePath, func(w http.ResponseWriter, r *http.Request) {
		s.provider.WriteRevocationResponse(r.Context(), w, s.provider.NewRevocationRequest(r.Context(), r))
	})
	mux.HandleFunc("POST "+IntrospectPath, func(w http.ResponseWriter, r *http.Request) {
		ir, err := s.provider.NewIntrospectionRequest(r.Context(), r, &fosite.DefaultSession{})
		if err != nil {
			s.provider.WriteIntrospectionError(r.Context(), w, err)
			return
		}
		s.provider.WriteIntrospectionResponse(r.Context(), w, ir)
	})
	return mux
}

func (s *Server) issuer(r *http.Request) string {
	if s.cfg.Issuer != "" {
		return strings.TrimSuffix(s.cfg.Issuer, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	iss := s.issuer(r)
	methods := []string{"client_secret_basic", "client_secret_post", "none", "tls_client_auth"}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                        iss,
		"token_endpoint":                                iss + TokenPath,
		"revocation_endpoint":                           iss + RevokePath,
		"introspection_endpoint":                        iss + IntrospectPath,
		"grant_types_supported":                         []string{"client_credentials", "password", "refresh_token"},
		"token_endpoint_auth_methods_supported":         methods,
		"revocation_endpoint_auth_methods_supported":    methods,
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.provider.NewAccessRequest(ctx, r, &fosite.DefaultSession{})
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// Tokens is a pair obtained with the password grant.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// PasswordGrant builds a password-grant token request for user, with the
// client authenticating the way it is registered to (a tls_client_auth client
// must still send it over a TLS connection that carries its certificate).
func PasswordGrant(tokenURL string, c Client, user, password string) *http.Request {
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}, "scope": {"offline demo"}}
	switch c.AuthMethod {
	case "client_secret_post":
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	case "none", "tls_client_auth":
		form.Set("client_id", c.ID)
	}
	req := httptest.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	req.RequestURI = ""
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.AuthMethod == "client_secret_basic" {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	return req
}

// ReadTokens reads a token endpoint's answer.
func ReadTokens(status int, body []byte) (Tokens, error) {
	var t Tokens
	if status != http.StatusOK {
		return t, fmt.Errorf("token endpoint answered %d: %s", status, body)
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return t, err
	}
	if t.AccessToken == "" || t.RefreshToken == "" {
		return t, errors.New("token endpoint returned no token pair")
	}
	return t, nil
}

// IssueTokens runs a password grant through the token endpoint in process and
// returns the access and refresh tokens fosite issued to the client.
func (s *Server) IssueTokens(clientID, user, password string) (Tokens, error) {
	c, ok := s.clients[clientID]
	if !ok || c.AuthMethod == "tls_client_auth" {
		return Tokens{}, fmt.Errorf("client %q cannot get tokens in process", clientID)
	}
	rec := httptest.NewRecorder()
	s.token(rec, PasswordGrant(TokenPath, c, user, password))
	return ReadTokens(rec.Code, rec.Body.Bytes())
}

// Active says whether fosite still accepts the token, by introspecting it
// the way the introspection endpoint does.
func (s *Server) Active(ctx context.Context, token string) bool {
	_, _, err := s.provider.IntrospectToken(ctx, token, fosite.AccessToken, &fosite.DefaultSession{})
	return err == nil
}
