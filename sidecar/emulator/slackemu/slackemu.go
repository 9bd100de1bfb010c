// Package slackemu emulates the Slack Web API methods that check and revoke
// a token, as Slack documents them (https://docs.slack.dev/reference/methods/):
//
//   - every method is at {base}/{method} (Slack's base is
//     https://slack.com/api), takes GET or POST with form or query
//     arguments, and reads the token from "Authorization: Bearer" or the
//     token argument;
//   - every answer is HTTP 200 JSON: {"ok": true, ...} or {"ok": false,
//     "error": "..."};
//   - auth.revoke revokes the calling token: {"ok": true, "revoked": true};
//     with test=1 (Slack's testing mode) nothing is revoked and revoked is
//     false; errors invalid_auth, not_authed;
//   - auth.test says who the token belongs to: {"ok": true, "url", "team",
//     "user", "team_id", "user_id"};
//   - api.test needs no token and echoes its arguments.
//
// Where the docs do not say which shared error applies, the emulator
// answers token_revoked for a token it revoked and invalid_auth for one it
// never issued.
package slackemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// Team is the demo workspace.
const (
	TeamID   = "T0TOKENWRD"
	TeamName = "Tokenwarden Demo"
	TeamURL  = "https://tokenwarden-demo.slack.com/"
)

type token struct {
	user    string
	userID  string
	revoked bool
}

// Server is the emulated Web API. Its zero value is not usable; call New.
type Server struct {
	mu     sync.Mutex
	tokens map[string]*token
}

// New returns a server with no tokens.
func New() *Server { return &Server{tokens: map[string]*token{}} }

// IssueToken makes a user token (xoxp-) for user, as an app's install would.
func (s *Server) IssueToken(user string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	tok := "xoxp-" + hex.EncodeToString(b[:6]) + "-" + hex.EncodeToString(b[6:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = &token{user: user, userID: "U" + strings.ToUpper(hex.EncodeToString(id))}
	return tok
}

// Active says whether the token still works.
func (s *Server) Active(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	return ok && !t.revoked
}

// Handler serves the methods below base, e.g. "/api".
func (s *Server) Handler(base string) http.Handler {
	base = strings.TrimRight(base, "/")
	mux := http.NewServeMux()
	mux.HandleFunc(base+"/auth.revoke", s.method(s.revoke))
	mux.HandleFunc(base+"/auth.test", s.method(s.test))
	mux.HandleFunc(base+"/api.test", s.method(func(r *http.Request, _ string) map[string]any {
		args := map[string]string{}
		for k := range r.Form {
			if k != "token" {
				args[k] = r.Form.Get(k)
			}
		}
		return map[string]any{"ok": true, "args": args}
	}))
	return mux
}

// method parses the arguments and the token the way every Web API method
// does, and writes the answer with HTTP 200.
func (s *Server) method(run func(r *http.Request, tok string) map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var answer map[string]any
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			answer = map[string]any{"ok": false, "error": "method_not_supported"}
		} else if err := r.ParseForm(); err != nil {
			answer = map[string]any{"ok": false, "error": "invalid_form_data"}
		} else {
			tok := r.Form.Get("token")
			if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				tok = h
			}
			answer = run(r, tok)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(answer)
	}
}

// lookup returns the live token, or the error Slack answers for it.
func (s *Server) lookup(tok string) (*token, map[string]any) {
	if tok == "" {
		return nil, map[string]any{"ok": false, "error": "not_authed"}
	}
	t, ok := s.tokens[tok]
	if !ok {
		return nil, map[string]any{"ok": false, "error": "invalid_auth"}
	}
	if t.revoked {
		return nil, map[string]any{"ok": false, "error": "token_revoked"}
	}
	return t, nil
}

func (s *Server) revoke(r *http.Request, tok string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, refused := s.lookup(tok)
	if refused != nil {
		return refused
	}
	if test := r.Form.Get("test"); test == "1" || test == "true" {
		return map[string]any{"ok": true, "revoked": false}
	}
	t.revoked = true
	return map[string]any{"ok": true, "revoked": true}
}

func (s *Server) test(_ *http.Request, tok string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, refused := s.lookup(tok)
	if refused != nil {
		return refused
	}
	return map[string]any{"ok": true, "url": TeamURL, "team": TeamName, "user": t.user, "team_id": TeamID, "user_id": t.userID}
}
