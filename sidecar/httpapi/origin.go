package httpapi

import (
	"net/http"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// CheckOrigin refuses requests a browser sent on behalf of a web page the
// operator did not name: an Origin header outside allowed, or
// Sec-Fetch-Site: cross-site without an allowed Origin. Workflow engines
// and curl send neither header, so they pass; a page the operator happens
// to have open does not. Origins compare as "scheme://host[:port]", case
// aside.
func CheckOrigin(allowed []string) func(http.Handler) http.Handler {
	ok := map[string]bool{}
	for _, o := range allowed {
		ok[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			switch {
			case origin != "" && !ok[strings.ToLower(origin)]:
				writeProblem(w, r, action.NewProblem(action.KindOriginRefused,
					"requests from origin %q are refused; add it to http.allowedOrigins if a page there is meant to call the sidecar", truncate(origin, 128)))
				return
			case origin == "" && r.Header.Get("Sec-Fetch-Site") == "cross-site":
				writeProblem(w, r, action.NewProblem(action.KindOriginRefused,
					"a cross-site browser request without an allowed Origin is refused"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
