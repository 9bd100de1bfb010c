// Package githubemu emulates the part of GitHub's REST API that manages an
// OAuth app's (or a GitHub App's) user access tokens, as GitHub documents it
// (https://docs.github.com/rest/apps/oauth-applications):
//
//   - POST   /applications/{client_id}/token  "Check a token": 200 with the
//     authorization, 404 for an invalid token, 422 for a bad request;
//   - DELETE /applications/{client_id}/token  "Delete an app token": 204 No
//     Content, 422 Validation failed;
//   - both take JSON {"access_token": "..."} and Basic authentication with
//     the app's client_id and client_secret as username and password;
//   - errors as {"message": "...", "documentation_url": "..."}, 422 adding
//     "errors": [{"resource", "field", "code"}].
//
// Where the docs are silent the emulator chooses, and says so: missing or
// wrong Basic credentials get 401 {"message": "Bad credentials"}, an unknown
// client id 404, and deleting a token that is unknown (or already deleted)
// 404 as checking it does. Token values look like GitHub's: gho_ and 36
// characters.
package githubemu

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// TokenPath is the documented path, {client_id} filled in.
func TokenPath(clientID string) string { return "/applications/" + clientID + "/token" }

const docs = "https://docs.github.com/rest/apps/oauth-applications"

// App is a registered OAuth app.
type App struct {
	ClientID     string
	ClientSecret string
	Name         string
}

type token struct {
	clientID string
	user     string
	created  time.Time
	id       int
}

// Server is the emulated API. Its zero value is not usable; call New.
type Server struct {
	mu     sync.Mutex
	apps   map[string]App
	tokens map[string]token
	nextID int
	now    func() time.Time
}

// New returns a server that knows the given apps. now is the clock for
// created_at; nil means time.Now.
func New(now func() time.Time, apps ...App) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{apps: map[string]App{}, tokens: map[string]token{}, now: now, nextID: 1}
	for _, a := range apps {
		s.apps[a.ClientID] = a
	}
	return s
}

// IssueToken makes a user access token for the app, as the web flow would.
func (s *Server) IssueToken(clientID, user string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 36)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	tok := "gho_" + string(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = token{clientID: clientID, user: user, created: s.now(), id: s.nextID}
	s.nextID++
	return tok
}

// Active says whether the token still works.
func (s *Server) Active(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tokens[tok]
	return ok
}

// Handler serves the two documented endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /applications/{client_id}/token", s.check)
	mux.HandleFunc("DELETE /applications/{client_id}/token", s.delete)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"message": message, "documentation_url": docs, "status": http.StatusText(status)})
}

// authorize checks the app's Basic credentials and reads the body; it has
// answered when ok is false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (app App, accessToken string, ok bool) {
	app, known := s.apps[r.PathValue("client_id")]
	if !known {
		fail(w, http.StatusNotFound, "Not Found")
		return app, "", false
	}
	id, secret, basic := r.BasicAuth()
	if !basic || subtle.ConstantTimeCompare([]byte(id), []byte(app.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 {
		fail(w, http.StatusUnauthorized, "Bad credentials")
		return app, "", false
	}
	var body struct {
		AccessToken *string `json:"access_token"`
	}
	// GitHub reads the body as JSON whatever its Content-Type says (its own
	// curl examples send none).
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
		fail(w, http.StatusBadRequest, "Problems parsing JSON")
		return app, "", false
	}
	if body.AccessToken == nil || *body.AccessToken == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"message":           "Validation Failed",
			"errors":            []map[string]string{{"resource": "Authorization", "field": "access_token", "code": "missing_field"}},
			"documentation_url": docs, "status": "422",
		})
		return app, "", false
	}
	return app, *body.AccessToken, true
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, tok, ok := s.authorize(w, r)
	if !ok {
		return
	}
	if t, known := s.tokens[tok]; !known || t.clientID != app.ClientID {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	delete(s.tokens, tok)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, tok, ok := s.authorize(w, r)
	if !ok {
		return
	}
	t, known := s.tokens[tok]
	if !known || t.clientID != app.ClientID {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	sum := sha256.Sum256([]byte(tok))
	created := t.created.UTC().Format(time.RFC3339)
	writeJSON(w, http.StatusOK, map[string]any{
		"id":               t.id,
		"url":              "https://api.github.com/authorizations/" + strconv.Itoa(t.id),
		"scopes":           []string{"read:user"},
		"token":            tok,
		"token_last_eight": tok[len(tok)-8:],
		"hashed_token":     hex.EncodeToString(sum[:]),
		"app":              map[string]any{"client_id": app.ClientID, "name": app.Name, "url": "https://example.com"},
		"note":             nil,
		"note_url":         nil,
		"updated_at":       created,
		"created_at":       created,
		"fingerprint":      nil,
		"expires_at":       nil,
		"user":             map[string]any{"login": t.user, "type": "User"},
	})
}
