package httpapi

import (
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// Recoverer turns a panic into a 500 problem and a log line with the stack,
// so one bad request cannot take the sidecar down.
func Recoverer(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					LogFrom(r.Context()).Error("panic", "panic", slog.AnyValue(v).String(), "stack", string(debug.Stack()))
					writeProblem(w, r, action.NewProblem(action.KindInternal, "the sidecar failed unexpectedly; the request id is in the log"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
