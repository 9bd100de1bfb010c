package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/secret"
)

// APIKey is one key a caller may present. ID names it in logs and audit
// events; the key itself is never written anywhere. Several keys at once let
// a key be rotated without downtime.
type APIKey struct {
	ID  string
	Key secret.Value
}

type callerKey struct{}

// CallerFrom returns the id of the key the request was authenticated with,
// or "" when the API runs without keys.
func CallerFrom(ctx context.Context) string {
	id, _ := ctx.Value(callerKey{}).(string)
	return id
}

// RequireAPIKey admits a request only with "Authorization: Bearer <key>"
// for one of keys. Keys are compared as SHA-256 digests in constant time,
// and every key is compared on every request, so neither the timing nor the
// length of a guess tells anything about a key.
func RequireAPIKey(keys []APIKey) func(http.Handler) http.Handler {
	return NewAPIKeys(keys).Middleware
}

// APIKeys is a set of caller keys that can be replaced while the server
// runs (a secret reload), each request checking against one whole set.
type APIKeys struct {
	set atomic.Pointer[keySet]
}

type keySet struct {
	keys    []APIKey
	digests [][32]byte
}

// NewAPIKeys holds keys.
func NewAPIKeys(keys []APIKey) *APIKeys {
	k := &APIKeys{}
	k.Set(keys)
	return k
}

// Set replaces the keys; requests already admitted are not affected.
func (k *APIKeys) Set(keys []APIKey) {
	s := &keySet{keys: append([]APIKey(nil), keys...), digests: make([][32]byte, len(keys))}
	for i, key := range keys {
		s.digests[i] = sha256.Sum256([]byte(key.Key.Reveal()))
	}
	k.set.Store(s)
}

// Middleware admits requests that present one of the current keys.
func (k *APIKeys) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		presented, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			unauthorized(w, r, "send the sidecar API key as \"Authorization: Bearer <key>\"")
			return
		}
		s := k.set.Load()
		got := sha256.Sum256([]byte(presented))
		match := -1
		for i := range s.digests {
			if subtle.ConstantTimeCompare(got[:], s.digests[i][:]) == 1 {
				match = i
			}
		}
		if match < 0 {
			unauthorized(w, r, "the sidecar API key is not valid")
			return
		}
		id := s.keys[match].ID
		SetLogAttr(r.Context(), slog.String("caller", id))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, id)))
	})
}

func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func unauthorized(w http.ResponseWriter, r *http.Request, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="tokenwarden"`)
	writeProblem(w, r, action.NewProblem(action.KindUnauthorized, "%s", detail))
}
