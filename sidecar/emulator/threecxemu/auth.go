package threecxemu

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"
)

// tokenError is an RFC 6749 §5.2 error response, the shape the PBX's token endpoint uses.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeTokenJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// tokenResponse is the PBX's answer to a client credentials grant: a bearer token and no
// refresh token.
type tokenResponse struct {
	TokenType    string  `json:"token_type"`
	ExpiresIn    int64   `json:"expires_in"`
	AccessToken  string  `json:"access_token"`
	RefreshToken *string `json:"refresh_token"`
}

const maxTokenForm = 64 << 10

// serveToken implements POST /connect/token for grant_type=client_credentials, with the form
// URL-encoded or multipart (3CX's own tutorial client sends FormData).
func (e *Emulator) serveToken(w http.ResponseWriter, r *http.Request) {
	e.tokenRequests.Add(1)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeTokenJSON(w, http.StatusMethodNotAllowed, tokenError{"invalid_request", "The token endpoint accepts POST only."})
		return
	}
	form, ok := readTokenForm(w, r)
	if !ok {
		return
	}
	var missing []string
	for _, name := range []string{"grant_type", "client_id", "client_secret"} {
		if form.Get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		writeTokenJSON(w, http.StatusBadRequest, tokenError{"invalid_request", "Missing parameters: " + strings.Join(missing, ", ") + "."})
		return
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		writeTokenJSON(w, http.StatusBadRequest, tokenError{"unsupported_grant_type", "The grant_type '" + gt + "' is not supported; use client_credentials."})
		return
	}
	clientID := form.Get("client_id")
	e.authMu.Lock()
	defer e.authMu.Unlock()
	want, known := e.secrets[clientID]
	if !known || subtle.ConstantTimeCompare([]byte(want), []byte(form.Get("client_secret"))) != 1 {
		writeTokenJSON(w, http.StatusUnauthorized, tokenError{"invalid_client", "The specified client credentials are invalid."})
		return
	}
	now := e.opts.Now()
	// One active access token per client: issuing a new one ends the previous.
	if old := e.sessions[clientID]; old != nil {
		delete(e.bearer, old.token)
	}
	s := &session{clientID: clientID, token: newAccessToken(), expires: now.Add(e.opts.TokenLifetime)}
	e.sessions[clientID] = s
	e.bearer[s.token] = s
	e.touchPrincipal(clientID, now)

	unit := time.Second
	if e.opts.ExpiresInMinutes {
		unit = time.Minute
	}
	writeTokenJSON(w, http.StatusOK, tokenResponse{
		TokenType: "Bearer", ExpiresIn: int64(e.opts.TokenLifetime / unit), AccessToken: s.token,
	})
}

func readTokenForm(w http.ResponseWriter, r *http.Request) (interface{ Get(string) string }, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mt {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxTokenForm)
	default:
		writeTokenJSON(w, http.StatusBadRequest, tokenError{"invalid_request", "The token request must be application/x-www-form-urlencoded or multipart/form-data."})
		return nil, false
	}
	if err != nil {
		writeTokenJSON(w, http.StatusBadRequest, tokenError{"invalid_request", "The token request body could not be read as a form."})
		return nil, false
	}
	return r.PostForm, true
}

// touchPrincipal records a sign-in as the principal's LastUsed. The caller holds authMu.
func (e *Emulator) touchPrincipal(number string, now time.Time) {
	e.dataMu.Lock()
	defer e.dataMu.Unlock()
	numIdx := servicePrincipalType.index["Number"]
	for i, rec := range e.principals {
		if rec.vals[numIdx].s == number {
			principals := append([]*record(nil), e.principals...)
			principals[i] = rec.with(servicePrincipalType, map[string]value{"LastUsed": when(now.UTC().Truncate(time.Millisecond))})
			e.principals = principals
			return
		}
	}
}

func newAccessToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authenticate checks the bearer token of an XAPI request and returns the caller's client_id.
// Failures get 401 with an empty body and a WWW-Authenticate challenge, as an ASP.NET bearer
// handler answers before the request reaches OData.
func (e *Emulator) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	scheme, tok, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
		return "", false
	}
	e.authMu.RLock()
	s := e.bearer[tok]
	e.authMu.RUnlock()
	if s == nil || !e.opts.Now().Before(s.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return "", false
	}
	return s.clientID, true
}
