package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

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
	digests := make([][32]byte, len(keys))
	for i, k := range keys {
		digests[i] = sha256.Sum256([]byte(k.Key.Reveal()))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			presented, ok := bearer(r.Header.Get("Authorization"))
			if !ok {
				unauthorized(w, r, "send the sidecar API key as \"Authorization: Bearer <key>\"")
				return
			}
			got := sha256.Sum256([]byte(presented))
			match := -1
			for i := range digests {
				if subtle.ConstantTimeCompare(got[:], digests[i][:]) == 1 {
					match = i
				}
			}
			if match < 0 {
				unauthorized(w, r, "the sidecar API key is not valid")
				return
			}
			id := keys[match].ID
			SetLogAttr(r.Context(), slog.String("caller", id))
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, id)))
		})
	}
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
