package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// logAttrs collects what handlers learn about a request (its action, the
// problem type) for the one access-log line written when it ends.
type logAttrs struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// SetLogAttr adds an attribute to the request's access-log line. Never pass
// a secret: only ids, types and counts belong there.
func SetLogAttr(ctx context.Context, a slog.Attr) {
	if la, ok := ctx.Value(logAttrsKey).(*logAttrs); ok {
		la.mu.Lock()
		la.attrs = append(la.attrs, a)
		la.mu.Unlock()
	}
}

// LogFrom returns the process logger bound to the request's id.
func LogFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

type loggerKey struct{}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// AccessLog writes one structured line per request: method, route, status,
// duration and the attributes handlers added. It never logs headers or
// bodies, which is where keys, secrets and tokens travel.
func AccessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			la := &logAttrs{}
			reqLog := logger.With("request_id", RequestIDFrom(r.Context()))
			ctx := context.WithValue(context.WithValue(r.Context(), logAttrsKey, la), loggerKey{}, reqLog)
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r.WithContext(ctx))
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
				slog.Int("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			}
			la.mu.Lock()
			attrs = append(attrs, la.attrs...)
			la.mu.Unlock()
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			}
			reqLog.LogAttrs(r.Context(), level, "request", attrs...)
		})
	}
}
