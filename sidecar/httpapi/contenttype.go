package httpapi

import (
	"mime"
	"net/http"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// RequireJSON refuses a POST, PUT or PATCH whose Content-Type is not
// application/json with 415. A web page can make a browser send text/plain,
// form or multipart bodies to any address without asking first (a "simple"
// request); application/json needs a CORS preflight, which the sidecar
// never grants, so this alone keeps cross-site pages from invoking actions.
func RequireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
		default:
			next.ServeHTTP(w, r)
			return
		}
		ct := r.Header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			if ct == "" {
				ct = "none"
			}
			writeProblem(w, r, action.NewProblem(action.KindUnsupportedMedia,
				"send the body as Content-Type: application/json (this request had %q)", truncate(ct, 64)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
