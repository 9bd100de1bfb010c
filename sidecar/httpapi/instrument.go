package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// ActionObserver learns when each action request starts and how it ended
// (metrics). Outcome is "ok" or the problem kind the caller received.
type ActionObserver interface {
	ActionStarted(action string) (done func(outcome string, seconds float64))
}

type outcomeKey struct{}

// outcome is filled by writeProblem, the one place a failure is answered, so
// the instrumenting middleware learns the problem kind without parsing the body.
type outcome struct{ kind string }

func setOutcome(ctx context.Context, kind string) {
	if o, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		o.kind = kind
	}
}

// Instrument reports every request to POST /v1/actions/{actionId}. Ids that
// name no action are reported as "unknown", so a caller cannot mint label
// values (and memory) by inventing action ids.
func Instrument(obs ActionObserver, known func(id string) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := chi.URLParam(r, "actionId")
			if !known(id) {
				id = "unknown"
			}
			start := time.Now()
			done := obs.ActionStarted(id)
			o := &outcome{}
			defer func() {
				if v := recover(); v != nil {
					// The recoverer further out answers 500; count it as such.
					done("internal", time.Since(start).Seconds())
					panic(v)
				}
				kind := o.kind
				if kind == "" {
					kind = "ok"
				}
				done(kind, time.Since(start).Seconds())
			}()
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), outcomeKey{}, o)))
		})
	}
}
