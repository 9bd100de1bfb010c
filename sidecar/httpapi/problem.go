package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// writeProblem answers with an RFC 9457 document. Anything that is not
// already a problem is an internal error and its text stays in the log.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	var p *action.Problem
	if !errors.As(err, &p) {
		LogFrom(r.Context()).Error("unexpected error", "error", err.Error())
		p = action.NewProblem(action.KindInternal, "the sidecar failed unexpectedly; the request id is in the log")
	}
	copy := *p
	copy.Instance = "urn:tokenwarden:request:" + RequestIDFrom(r.Context())
	SetLogAttr(r.Context(), slog.String("problem", copy.Type))
	kind := string(p.Kind())
	if kind == "" {
		kind = "unclassified"
	}
	setOutcome(r.Context(), kind)
	if copy.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(copy.RetryAfterSeconds))
	}
	writeDocument(w, copy.Status, "application/problem+json", &copy)
}
