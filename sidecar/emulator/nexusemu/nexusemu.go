// Package nexusemu emulates the OAuth token revocation endpoint of a
// Technology Nexus server (API version 3.0) as its documentation describes it:
//
//   - POST {base}/api/rest/v3.0/oauth/revoke with a JSON body holding token,
//     token_type_hint ("Access_Token" or "Refresh_Token"), client_id and
//     client_secret;
//   - the client authenticates by Basic header or client certificate, and only
//     when it uses neither are client_id and client_secret required (otherwise
//     they are ignored);
//   - a hint is trusted without checking: a token looked for under the wrong
//     hint is not found, and nothing is revoked;
//   - revoking a refresh token also revokes the access tokens issued with it;
//   - 200 with an empty JSON object whether or not the token existed;
//   - errors as {"error":"INVALID_REQUEST","errorDescription":"Required
//     parameter 'token' is null"} and {"error":"SERVER_ERROR",...}.
//
// Where the page is silent the emulator chooses, and says so: error statuses
// (400 for INVALID_REQUEST, 401 for INVALID_CLIENT, 500 for SERVER_ERROR),
// Basic credentials compared exactly as sent (no form-decoding), and RFC 7009's
// refusal of a token issued to another client (UNAUTHORIZED_CLIENT).
//
// Two endpoints under /emulator/ exist only in the emulator, for demos and
// tests: one issues a token pair, one says whether a token is still active.
package nexusemu

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"sync"
)

// RevokePath is the documented endpoint, below the server's base URL.
const RevokePath = "/api/rest/v3.0/oauth/revoke"

// Emulator-only paths.
const (
	IssuePath      = "/emulator/tokens"
	IntrospectPath = "/emulator/introspect"
)

// Token type names as Nexus spells them.
const (
	AccessToken  = "Access_Token"
	RefreshToken = "Refresh_Token"
)

// Client is a registered OAuth client. CertSubject, when set, is the subject
// DN (as crypto/x509 prints it, e.g. "CN=MyClient,O=Example") of a TLS client
// certificate that authenticates this client.
type Client struct {
	ID          string
	Secret      string
	CertSubject string
}

type token struct {
	kind     string
	clientID string
	refresh  string // for an access token: the refresh token it came with
}

// Server is the emulated Nexus server. Its zero value is not usable; call New.
type Server struct {
	mu          sync.Mutex
	clients     map[string]Client
	tokens      map[string]token
	serverError bool
	revocations int
}

// New returns a server that knows the given clients.
func New(clients ...Client) *Server {
	s := &Server{clients: map[string]Client{}, tokens: map[string]token{}}
	for _, c := range clients {
		s.clients[c.ID] = c
	}
	return s
}

// Handler serves the revocation endpoint and the emulator-only endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+RevokePath, s.revoke)
	mux.HandleFunc("POST "+IssuePath, s.issue)
	mux.HandleFunc("POST "+IntrospectPath, s.introspect)
	return mux
}

// IssuePair issues an access token and the refresh token it belongs to.
func (s *Server) IssuePair(clientID string) (access, refresh string) {
	access, refresh = newToken(), newToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[refresh] = token{kind: RefreshToken, clientID: clientID}
	s.tokens[access] = token{kind: AccessToken, clientID: clientID, refresh: refresh}
	return access, refresh
}

// Active reports whether the token was issued and not revoked.
func (s *Server) Active(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tokens[tok]
	return ok
}

// Revocations counts the revoke requests answered 200.
func (s *Server) Revocations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revocations
}

// FailWithServerError makes every revocation answer SERVER_ERROR while on,
// as the documented database failure does.
func (s *Server) FailWithServerError(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serverError = on
}

// newToken makes a token shaped like the documentation's example: 40 hex digits.
func newToken() string {
	b := make([]byte, 20)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type revokeBody struct {
	Token         *string `json:"token"`
	TokenTypeHint *string `json:"token_type_hint"`
	ClientID      *string `json:"client_id"`
	ClientSecret  *string `json:"client_secret"`
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	var body revokeBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		fail(w, http.StatusBadRequest, "INVALID_REQUEST", "Request body is not valid JSON")
		return
	}
	client, status, code, msg := s.authenticate(r, body)
	if client == nil {
		fail(w, status, code, msg)
		return
	}
	if body.Token == nil || *body.Token == "" {
		fail(w, http.StatusBadRequest, "INVALID_REQUEST", "Required parameter 'token' is null")
		return
	}
	hint := ""
	if body.TokenTypeHint != nil {
		hint = *body.TokenTypeHint
	}
	if hint != "" && hint != AccessToken && hint != RefreshToken {
		fail(w, http.StatusBadRequest, "INVALID_REQUEST", "Invalid value for parameter 'token_type_hint'")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serverError {
		fail(w, http.StatusInternalServerError, "SERVER_ERROR", "Error when trying to revoke")
		return
	}
	tok, found := s.tokens[*body.Token]
	// The hint is trusted: a token of another type is simply not found.
	if found && (hint == "" || hint == tok.kind) {
		if tok.clientID != client.ID {
			fail(w, http.StatusBadRequest, "UNAUTHORIZED_CLIENT", "The token was not issued to this client")
			return
		}
		delete(s.tokens, *body.Token)
		if tok.kind == RefreshToken {
			for k, t := range s.tokens {
				if t.refresh == *body.Token {
					delete(s.tokens, k)
				}
			}
		}
	}
	s.revocations++
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("{}"))
}

// authenticate finds the client by Basic header, else client certificate,
// else the body's client_id and client_secret, as the documentation orders it.
func (s *Server) authenticate(r *http.Request, body revokeBody) (*Client, int, string, string) {
	invalid := func() (*Client, int, string, string) {
		return nil, http.StatusUnauthorized, "INVALID_CLIENT", "Client authentication failed"
	}
	if id, secret, ok := r.BasicAuth(); ok {
		return s.check(id, secret, invalid)
	}
	// Only a certificate the TLS layer verified counts; the server that hosts
	// the emulator decides which CAs it trusts.
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		subject := r.TLS.VerifiedChains[0][0].Subject.String()
		for _, c := range s.clients {
			if c.CertSubject != "" && c.CertSubject == subject {
				return &c, 0, "", ""
			}
		}
		return invalid()
	}
	if body.ClientID == nil || *body.ClientID == "" {
		return nil, http.StatusBadRequest, "INVALID_REQUEST", "Required parameter 'client_id' is null"
	}
	if body.ClientSecret == nil || *body.ClientSecret == "" {
		return nil, http.StatusBadRequest, "INVALID_REQUEST", "Required parameter 'client_secret' is null"
	}
	return s.check(*body.ClientID, *body.ClientSecret, invalid)
}

func (s *Server) check(id, secret string, invalid func() (*Client, int, string, string)) (*Client, int, string, string) {
	c, ok := s.clients[id]
	if !ok || c.Secret == "" || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return invalid()
	}
	return &c, 0, "", ""
}

func fail(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "errorDescription": description})
}

// issue is emulator-only: {"client_id": "..."} issues a token pair.
func (s *Server) issue(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ClientID string `json:"client_id"`
	}
	readLiberally(r, &body.ClientID, "client_id")
	if _, ok := s.clients[body.ClientID]; !ok {
		fail(w, http.StatusBadRequest, "INVALID_REQUEST", "Unknown client_id")
		return
	}
	access, refresh := s.IssuePair(body.ClientID)
	writeJSON(w, map[string]string{"access_token": access, "refresh_token": refresh})
}

// introspect is emulator-only: {"token": "..."} says whether it is active and
// what it is, in the shape of RFC 7662's answer.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	var tok string
	readLiberally(r, &tok, "token")
	s.mu.Lock()
	t, ok := s.tokens[tok]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, map[string]any{"active": false})
		return
	}
	writeJSON(w, map[string]any{"active": true, "token_type": t.kind, "client_id": t.clientID})
}

// readLiberally takes one field from a JSON or form body, so curl users need
// not remember which.
func readLiberally(r *http.Request, dst *string, field string) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]string
		json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&m)
		*dst = m[field]
		return
	}
	*dst = r.FormValue(field)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
