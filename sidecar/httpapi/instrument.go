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

// setOutcome is called by writeProblem, the one place a failure is
// answered, so the instrumenting middleware learns the problem kind without
// parsing the body.
func setOutcome(ctx context.Context, kind string) {
	if st := requestFrom(ctx); st != nil {
		st.mu.Lock()
		st.outcome = kind
		st.mu.Unlock()
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
			st := requestFrom(r.Context())
			if st == nil {
				r, st = withRequest(r, "")
			}
			st.mu.Lock()
			st.outcome = ""
			st.mu.Unlock()
			start := time.Now()
			done := obs.ActionStarted(id)
			defer func() {
				if v := recover(); v != nil {
					// The recoverer further out answers 500; count it as such.
					done("internal", time.Since(start).Seconds())
					panic(v)
				}
				st.mu.Lock()
				kind := st.outcome
				st.mu.Unlock()
				if kind == "" {
					kind = "ok"
				}
				done(kind, time.Since(start).Seconds())
			}()
			next.ServeHTTP(w, r)
		})
	}
}
