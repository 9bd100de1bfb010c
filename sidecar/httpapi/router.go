// Package httpapi is the sidecar's HTTP surface: the route tree, its
// middleware, problem responses and the OpenAPI document.
package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/go-chi/chi/v5"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// Options configure the router once, at start-up.
type Options struct {
	Registry *action.Registry
	Logger   *slog.Logger
	// MaxBodyBytes bounds a request body; larger bodies get 413.
	MaxBodyBytes int64
	// Ready reports whether /readyz should say yes; nil means always.
	Ready *atomic.Bool
	// Degraded, when set and returning a reason, makes /readyz answer
	// 200 {"status": "degraded", "reason": ...}: the sidecar still serves
	// (revocations go through) but not as configured.
	Degraded func() string
	// DemoConnections, when set, is served at GET /v1/demo/connections.
	DemoConnections map[string]any
	// DemoStats, when set, is served at GET /v1/demo/stats: counters of the
	// demo emulators, so an end-to-end run can prove a sign-in was reused.
	DemoStats func() map[string]any
	// DemoTokens, when set, is served at GET /v1/demo/tokens: every token the
	// demo upstreams issued at start, by connection key.
	DemoTokens func() map[string]any
	// Middleware is applied to the /v1 API routes after the built-in
	// middleware (caller authentication and the like plug in here).
	Middleware []func(http.Handler) http.Handler
	// Version is reported by the OpenAPI document.
	Version string
	// Actions, when set, is told about every action request (metrics).
	Actions ActionObserver
	// Metrics, when set, is served at GET /metrics.
	Metrics http.Handler
	// AllowedOrigins are the browser origins ("https://flows.example.com")
	// whose pages may call the sidecar; requests from any other are 403.
	AllowedOrigins []string
	// LoopbackOnly says the listener only accepts local callers: the Host
	// header must then be a loopback name or one of AllowedHosts (421).
	LoopbackOnly bool
	AllowedHosts []string
	// MetricsMiddleware guards /metrics: the caller-key check when metrics
	// need the key, nothing when anyone who reaches the listener may scrape.
	MetricsMiddleware []func(http.Handler) http.Handler
}

// New builds the route tree.
func New(o Options) (http.Handler, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	spec, err := OpenAPI(o.Registry, o.Version)
	if err != nil {
		return nil, err
	}
	a := &api{reg: o.Registry, log: o.Logger}

	r := chi.NewRouter()
	r.Use(RequestID, AccessLog(o.Logger), Recoverer(o.Logger))
	if o.LoopbackOnly {
		r.Use(CheckHost(o.AllowedHosts))
	}
	r.Use(CheckOrigin(o.AllowedOrigins), RequireJSON)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, action.NewProblem(action.KindUnknownAction, "no route %s %s; see GET /openapi.json", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		p := action.NewProblem(action.KindMalformedRequest, "%s is not allowed on %s", r.Method, r.URL.Path)
		p.Status = http.StatusMethodNotAllowed
		writeProblem(w, r, p)
	})

	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if o.Ready != nil && !o.Ready.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
			return
		}
		if o.Degraded != nil {
			if reason := o.Degraded(); reason != "" {
				writeJSON(w, http.StatusOK, map[string]string{"status": "degraded", "reason": reason})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	r.Get("/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(spec)
	})

	if o.Metrics != nil {
		r.With(o.MetricsMiddleware...).Method(http.MethodGet, "/metrics", o.Metrics)
	}

	r.Route("/v1", func(r chi.Router) {
		r.Use(LimitBody(o.MaxBodyBytes))
		r.Use(o.Middleware...)
		r.Get("/actions", a.listActions)
		if o.Actions != nil {
			known := func(id string) bool { _, ok := o.Registry.Describe(id); return ok }
			r.With(Instrument(o.Actions, known)).Post("/actions/{actionId}", a.invoke)
		} else {
			r.Post("/actions/{actionId}", a.invoke)
		}
		r.Post("/connections/{provider}/test", a.testConnection)
		if o.DemoConnections != nil {
			r.Get("/demo/connections", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, o.DemoConnections)
			})
		}
		if o.DemoTokens != nil {
			r.Get("/demo/tokens", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, o.DemoTokens())
			})
		}
		if o.DemoStats != nil {
			r.Get("/demo/stats", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, o.DemoStats())
			})
		}
	})
	return r, nil
}

type api struct {
	reg *action.Registry
	log *slog.Logger
}

func (a *api) listActions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"actions": a.reg.Actions()})
}

func (a *api) invoke(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "actionId")
	SetLogAttr(r.Context(), slog.String("action", id))
	if _, ok := a.reg.Describe(id); !ok {
		// Checked before reading the body so a typo in the URL is named
		// even when the body is also wrong.
		writeProblem(w, r, a.reg.UnknownAction(id))
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	env, err := action.ParseEnvelope(body)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	shareEnvelope(r.Context(), env)
	res, err := a.reg.Start(r.Context(), id, env)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	if res.Stream != nil {
		sendStream(w, r, res.Stream)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// sendStream writes a list while it is read (action.Stream): 200 with the
// first item, each upstream page pushed to the caller as it ends. A failure
// before the first item is an ordinary problem answer; one after it ends
// the document with meta.truncated and meta.problem, and is logged and
// counted under the problem's kind.
func sendStream(w http.ResponseWriter, r *http.Request, s *action.Stream) {
	markStreamed(r.Context())
	rc := http.NewResponseController(w)
	begin := func() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
	}
	flush := func() error {
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	cut, err := s.Send(r.Context(), w, begin, flush)
	switch {
	case cut != nil:
		SetLogAttr(r.Context(), slog.String("problem", cut.Type))
		SetLogAttr(r.Context(), slog.Bool("truncated", true))
		setOutcome(r.Context(), string(cut.Kind()))
	case err != nil:
		var p *action.Problem
		if errors.As(err, &p) {
			writeProblem(w, r, p) // nothing was written yet
			return
		}
		// The caller went away mid-list: there is no one to tell.
		SetLogAttr(r.Context(), slog.String("stream_error", err.Error()))
		setOutcome(r.Context(), string(action.KindUpstreamTimeout))
	}
}

func (a *api) testConnection(w http.ResponseWriter, r *http.Request) {
	provider := chi.URLParam(r, "provider")
	body, err := readBody(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	var env action.Envelope
	if len(body) > 0 {
		if env, err = action.ParseEnvelope(body); err != nil {
			writeProblem(w, r, err)
			return
		}
	}
	if err := a.reg.TestEnvelope(r.Context(), provider, env); err != nil {
		writeProblem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"ok": true, "provider": provider, "message": "Signed in to the upstream system successfully"}})
}

// peekBody reads the body for middleware and puts it back for the handler.
func peekBody(r *http.Request) ([]byte, error) {
	body, err := readBody(r)
	if err == nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return body, err
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := readAll(r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			p := action.NewProblem(action.KindMalformedRequest, "the body is larger than %d bytes", tooBig.Limit)
			p.Status = http.StatusRequestEntityTooLarge
			return nil, p
		}
		return nil, action.NewProblem(action.KindMalformedRequest, "reading the body: %v", err)
	}
	return body, nil
}

// readAll reads the body in one allocation when its length is declared
// (io.ReadAll grows from 512 bytes, copying as it goes).
func readAll(r *http.Request) ([]byte, error) {
	if r.ContentLength <= 0 || r.ContentLength > 1<<20 {
		return io.ReadAll(r.Body)
	}
	body := make([]byte, 0, r.ContentLength+1)
	for {
		n, err := r.Body.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err == io.EOF {
			return body, nil
		}
		if err != nil {
			return body, err
		}
		if len(body) == cap(body) {
			// Longer than declared: let ReadAll take the rest.
			rest, err := io.ReadAll(r.Body)
			return append(body, rest...), err
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeDocument(w, status, "application/json", v)
}

// answers holds the buffers answers are encoded into, so an answer is
// written in one Write (the server then sends a Content-Length rather than
// chunks) without a new buffer per request.
var answers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func writeDocument(w http.ResponseWriter, status int, contentType string, v any) {
	buf := answers.Get().(*bytes.Buffer)
	buf.Reset()
	err := json.NewEncoder(buf).Encode(v)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	if err == nil {
		_, _ = w.Write(buf.Bytes())
	}
	if buf.Cap() <= 64<<10 {
		// Large answers (long lists) would pin their memory in the pool.
		answers.Put(buf)
	}
}
