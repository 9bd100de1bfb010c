package appgateemu

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// peerMediaType matches the versioned media type every admin call must accept.
var peerMediaType = regexp.MustCompile(`^application/vnd\.appgate\.peer-v(\d+)\+json$`)

// MediaType is the Accept value for peer API version v.
func MediaType(v int) string { return fmt.Sprintf("application/vnd.appgate.peer-v%d+json", v) }

// notAcceptable is the 406 body: the generic error plus the supported range,
// which clients read to pick a version.
type notAcceptable struct {
	apiError
	MinSupportedVersion int `json:"minSupportedVersion"`
	MaxSupportedVersion int `json:"maxSupportedVersion"`
}

// acceptedVersion returns the peer version the Accept header asks for, or 0.
func acceptedVersion(accept string) int {
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if m := peerMediaType.FindStringSubmatch(strings.TrimSpace(mediaType)); m != nil {
			v, err := strconv.Atoi(m[1])
			if err == nil {
				return v
			}
		}
	}
	return 0
}

// versioned refuses, before anything else (credentials included), a request
// whose Accept header does not name a supported peer version. Appgate's own
// tools rely on this order: they send a deliberately old version to /login
// and read the supported range from the answer.
func (e *Emulator) versioned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := acceptedVersion(r.Header.Get("Accept"))
		if v >= e.opts.MinVersion && v <= e.opts.MaxVersion {
			next.ServeHTTP(w, r)
			return
		}
		e.mu.Lock()
		e.negotiations++
		e.mu.Unlock()
		writeJSON(w, http.StatusNotAcceptable, notAcceptable{
			apiError: apiError{
				ID: errorID(http.StatusNotAcceptable),
				Message: fmt.Sprintf("Invalid 'Accept' header. Current version: %s, Received: %s",
					MediaType(e.opts.MaxVersion), r.Header.Get("Accept")),
			},
			MinSupportedVersion: e.opts.MinVersion,
			MaxSupportedVersion: e.opts.MaxVersion,
		})
	})
}

// handleVersion answers GET /admin/version, the one call that takes a plain
// application/json Accept header.
func (e *Emulator) handleVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int{
		"peerVersion":                e.opts.MaxVersion,
		"lowestPeerVersionSupported": e.opts.MinVersion,
	})
}
