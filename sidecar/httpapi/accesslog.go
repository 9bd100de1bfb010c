package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// request is everything the middleware keeps about one request, in one
// allocation behind one context value: its id, the attributes handlers add
// for the access-log line, the outcome the metrics record, and the
// response capture. Middleware used to add a context value, a request copy
// and (slog.With) a cloned logger each.
type request struct {
	id    string
	start time.Time

	mu      sync.Mutex
	attrs   []slog.Attr
	inline  [6]slog.Attr
	outcome string
	// streamed says the answer was sent while it was read (a list), so
	// middleware never holds it whole.
	streamed bool

	base   *slog.Logger
	logger *slog.Logger // base bound to the request id, built on first use

	rec capture
}

type requestKey struct{}

func requestFrom(ctx context.Context) *request {
	st, _ := ctx.Value(requestKey{}).(*request)
	return st
}

// withRequest returns r carrying a fresh record (id may be "").
func withRequest(r *http.Request, id string) (*http.Request, *request) {
	st := &request{id: id, start: time.Now()}
	st.attrs = st.inline[:0]
	return r.WithContext(context.WithValue(r.Context(), requestKey{}, st)), st
}

// SetLogAttr adds an attribute to the request's access-log line. Never pass
// a secret: only ids, types and counts belong there.
func SetLogAttr(ctx context.Context, a slog.Attr) {
	if st := requestFrom(ctx); st != nil {
		st.mu.Lock()
		st.attrs = append(st.attrs, a)
		st.mu.Unlock()
	}
}

// markStreamed records that the answer is a stream (see request.streamed).
func markStreamed(ctx context.Context) {
	if st := requestFrom(ctx); st != nil {
		st.mu.Lock()
		st.streamed = true
		st.mu.Unlock()
	}
}

// wasStreamed reports markStreamed.
func wasStreamed(ctx context.Context) bool {
	st := requestFrom(ctx)
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.streamed
}

// LogFrom returns the process logger bound to the request's id.
func LogFrom(ctx context.Context) *slog.Logger {
	st := requestFrom(ctx)
	if st == nil || st.base == nil {
		return slog.Default()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.logger == nil {
		st.logger = st.base.With("request_id", st.id)
	}
	return st.logger
}

// AccessLog writes one structured line per request: method, route, status,
// duration and the attributes handlers added. It never logs headers or
// bodies, which is where keys, secrets and tokens travel.
func AccessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st := requestFrom(r.Context())
			if st == nil {
				r, st = withRequest(r, RequestIDFrom(r.Context()))
			}
			st.base = logger
			st.rec = capture{ResponseWriter: w}
			next.ServeHTTP(&st.rec, r)
			if !logger.Enabled(r.Context(), slog.LevelError) {
				return
			}
			level := slog.LevelInfo
			if st.rec.code() >= 500 {
				level = slog.LevelError
			}
			st.mu.Lock()
			attrs := make([]slog.Attr, 0, 6+len(st.attrs))
			attrs = append(attrs,
				slog.String("request_id", st.id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", st.rec.code()),
				slog.Int("bytes", st.rec.bytes),
				slog.Float64("duration_ms", float64(time.Since(st.start).Microseconds())/1000),
			)
			attrs = append(attrs, st.attrs...)
			st.mu.Unlock()
			logger.LogAttrs(r.Context(), level, "request", attrs...)
		})
	}
}
