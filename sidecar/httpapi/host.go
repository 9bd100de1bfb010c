package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// CheckHost is for a listener only local callers reach: it answers only to
// loopback names (localhost, *.localhost, 127.0.0.0/8, ::1) and to the names
// in allowed. A page on a domain the attacker re-points at 127.0.0.1 (DNS
// rebinding) is same-origin with the sidecar as far as the browser knows,
// but its requests still carry the attacker's host name, and get 421.
func CheckHost(allowed []string) func(http.Handler) http.Handler {
	ok := map[string]bool{}
	for _, h := range allowed {
		ok[strings.ToLower(h)] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host := hostName(r.Host)
			if !loopbackName(host) && !ok[host] {
				writeProblem(w, r, action.NewProblem(action.KindHostRefused,
					"this sidecar listens on loopback and does not answer to host %q; add it to http.allowedHosts if it is meant to", truncate(host, 128)))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// hostName is the Host header without its port and brackets, lower case,
// without a trailing dot.
func hostName(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

func loopbackName(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}
