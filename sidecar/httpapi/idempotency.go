package httpapi

import (
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/idempotency"
)

// IdempotencyKeyHeader names the request header; ReplayedHeader marks an
// answer served from the store.
const (
	IdempotencyKeyHeader = "Idempotency-Key"
	ReplayedHeader       = "Idempotent-Replayed"
)

// maxKeptAnswer bounds one stored answer; a larger one is sent but not kept.
const maxKeptAnswer = 1 << 20

// Idempotency makes POST requests that carry an Idempotency-Key run once per
// key: a repeat with the same body gets the stored answer (marked with
// Idempotent-Replayed: true) without reaching the upstream; the same key
// with another body is a 422. Keys are scoped to the caller's API key, so
// one caller can never read another's stored answer. onReplay, if set, is
// called for each replay (metrics).
func Idempotency(store idempotency.Store, onReplay func()) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get(IdempotencyKeyHeader)
			if key == "" || r.Method != http.MethodPost {
				next.ServeHTTP(w, r)
				return
			}
			if len(key) > 255 || !printableASCII(key) {
				writeProblem(w, r, action.InvalidInput([]action.FieldError{{Field: "header " + IdempotencyKeyHeader, Message: "must be 1 to 255 printable ASCII characters"}}))
				return
			}
			body, err := peekBody(r)
			if err != nil {
				writeProblem(w, r, err)
				return
			}
			fp := sha256.New()
			for _, part := range [][]byte{[]byte(r.Method), []byte(r.URL.Path), body} {
				fp.Write(part)
				fp.Write([]byte{0})
			}
			var fingerprint [32]byte
			fp.Sum(fingerprint[:0])
			scoped := sha256.Sum256([]byte(CallerFrom(r.Context()) + "\x00" + key))

			var fresh *capture
			answer, replayed, err := store.Do(r.Context(), string(scoped[:]), fingerprint, func() idempotency.Answer {
				fresh = newCapture(w, maxKeptAnswer)
				next.ServeHTTP(fresh, r)
				if fresh.over || wasStreamed(r.Context()) {
					// Too big to keep, or a list sent while it was read
					// (which may have ended cut short): report a status
					// Keep refuses, so a repeat runs again rather than
					// replaying a stub.
					return idempotency.Answer{Status: http.StatusInsufficientStorage}
				}
				return idempotency.Answer{Status: fresh.code(), ContentType: w.Header().Get("Content-Type"), Body: fresh.body.Bytes()}
			})
			switch {
			case errors.Is(err, idempotency.ErrMismatch):
				writeProblem(w, r, action.NewProblem(action.KindIdempotencyConflict,
					"the Idempotency-Key %q was already used with a different request body or action; use a new key for a new request", key))
			case errors.Is(err, idempotency.ErrUnavailable):
				p := action.NewProblem(action.KindIdempotencyUnavailable,
					"the store that keeps Idempotency-Key answers (Redis) cannot be reached, so the request was not run; retry later, or send it without Idempotency-Key if running it twice is harmless")
				p.RetryAfterSeconds = 5
				writeProblem(w, r, p)
			case err != nil:
				writeProblem(w, r, action.NewProblem(action.KindUpstreamTimeout, "the caller went away while an earlier request with the same Idempotency-Key was running"))
			case replayed:
				SetLogAttr(r.Context(), slog.Bool("idempotent_replay", true))
				if onReplay != nil {
					onReplay()
				}
				w.Header().Set("Content-Type", answer.ContentType)
				w.Header().Set(ReplayedHeader, "true")
				w.WriteHeader(answer.Status)
				_, _ = w.Write(answer.Body)
			}
			// Otherwise this request ran the work and its answer went out
			// through fresh.
		})
	}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
