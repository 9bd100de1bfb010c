package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
)

// RequestIDHeader carries the request id in and out, so a workflow run and
// the sidecar's log line can be matched.
const RequestIDHeader = "X-Request-Id"

var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// RequestID takes the caller's X-Request-Id when it is sane (so a value
// cannot inject into logs) and otherwise makes one.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set(RequestIDHeader, id)
		r, _ = withRequest(r, id)
		next.ServeHTTP(w, r)
	})
}

// RequestIDFrom returns the request's id, or "" outside a request.
func RequestIDFrom(ctx context.Context) string {
	if st := requestFrom(ctx); st != nil {
		return st.id
	}
	return ""
}
