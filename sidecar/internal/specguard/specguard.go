// Package specguard checks HTTP traffic against a vendor's OpenAPI 3.0 document in tests:
// wrap an emulator (or any handler) and every request and response it sees is validated, with
// what did not match collected as readable violations. It exists so an emulator cannot drift
// from the vendor's published contract without a test noticing.
//
// Routing uses kin-openapi's gorillamux router, which matches OData key templates such as
// /SecurityTokens({Id})/Pbx.RevokeToken (the package tests hold it to that).
package specguard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Option adjusts a Guard.
type Option func(*config)

type config struct {
	excluded      []string
	tolerateSpec  bool
	bodilessCodes []int
}

// ExcludePrefix leaves requests whose URL path starts with any prefix unchecked, for endpoints
// the vendor documents outside this file (3CX's /connect/token, for one).
func ExcludePrefix(prefixes ...string) Option {
	return func(c *config) { c.excluded = append(c.excluded, prefixes...) }
}

// TolerateInvalidSpec loads a document even when it fails OpenAPI validation (examples that
// contradict their schema, say). Vendor files are what they are; the guard still checks traffic
// against the schemas they declare.
func TolerateInvalidSpec() Option {
	return func(c *config) { c.tolerateSpec = true }
}

// AllowBodiless accepts responses with these statuses when they carry no body, without checking
// them against the documented content. Use it for answers of an authentication layer in front of
// the documented API (a bare 401), which the vendor file describes only through its error default.
func AllowBodiless(statuses ...int) Option {
	return func(c *config) { c.bodilessCodes = append(c.bodilessCodes, statuses...) }
}

// Guard validates traffic against one OpenAPI document and records every mismatch.
type Guard struct {
	cfg    config
	router routers.Router
	opts   *openapi3filter.Options

	mu         sync.Mutex
	violations []string
}

// loaded is one parsed document with its router; parsing a large vendor file takes a noticeable
// fraction of a second, so each (file, server prefix, tolerance) is parsed once per test binary.
type loaded struct {
	router routers.Router
	err    error
}

type cacheKey struct {
	path, prefix string
	tolerate     bool
}

var (
	cacheMu sync.Mutex
	cache   = map[cacheKey]*loaded{}
)

// Load parses the OpenAPI document at specPath and serves its paths under serverPrefix (for
// example "/xapi/v1"), replacing the document's own servers so that requests to a loopback test
// server match. It returns an error when the file is absent, so a test can skip with a message.
func Load(specPath, serverPrefix string, opts ...Option) (*Guard, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if _, err := os.Stat(specPath); err != nil {
		return nil, fmt.Errorf("specguard: spec file: %w", err)
	}
	key := cacheKey{path: specPath, prefix: serverPrefix, tolerate: cfg.tolerateSpec}
	cacheMu.Lock()
	l, ok := cache[key]
	if !ok {
		l = load(key)
		cache[key] = l
	}
	cacheMu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	fo := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	fo.WithCustomSchemaErrorFunc(compactSchemaError)
	return &Guard{cfg: cfg, router: l.router, opts: fo}, nil
}

func load(key cacheKey) *loaded {
	loader := openapi3.NewLoader()
	// Multi-file vendor bundles (Appgate's) still point at sibling files.
	loader.IsExternalRefsAllowed = true
	doc, err := loader.LoadFromFile(key.path)
	if err != nil {
		return &loaded{err: fmt.Errorf("specguard: load %s: %w", key.path, err)}
	}
	if err := doc.Validate(context.Background()); err != nil && !key.tolerate {
		return &loaded{err: fmt.Errorf("specguard: %s is not valid OpenAPI (TolerateInvalidSpec accepts it): %w", key.path, err)}
	}
	doc.Servers = openapi3.Servers{{URL: key.prefix}}
	for _, item := range doc.Paths.Map() {
		item.Servers = nil
		for _, op := range item.Operations() {
			op.Servers = nil
		}
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return &loaded{err: fmt.Errorf("specguard: route %s: %w", key.path, err)}
	}
	return &loaded{router: router}
}

// compactSchemaError keeps a violation to one line: where in the document and why, without the
// schema and value dumps kin-openapi prints by default.
func compactSchemaError(err *openapi3.SchemaError) string {
	return "/" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
}

// Violations returns every mismatch seen so far, in arrival order.
func (g *Guard) Violations() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.violations)
}

// Reset forgets the violations seen so far.
func (g *Guard) Reset() {
	g.mu.Lock()
	g.violations = nil
	g.mu.Unlock()
}

func (g *Guard) record(r *http.Request, format string, args ...any) {
	msg := r.Method + " " + r.URL.RequestURI() + ": " + fmt.Sprintf(format, args...)
	g.mu.Lock()
	g.violations = append(g.violations, msg)
	g.mu.Unlock()
}

func (g *Guard) excluded(path string) bool {
	for _, p := range g.cfg.excluded {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// Wrap returns a handler that validates each request before passing it to next and each
// response before passing it on to the client. Traffic is never altered: a violation is
// recorded, not answered.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.excluded(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		reqBody, err := readBody(r)
		if err != nil {
			g.record(r, "reading request body: %v", err)
			http.Error(w, "specguard: unreadable request body", http.StatusBadRequest)
			return
		}
		route, params, err := g.router.FindRoute(r)
		if err != nil {
			g.record(r, "not in the spec: %v", err)
			next.ServeHTTP(w, r)
			return
		}
		in := &openapi3filter.RequestValidationInput{
			Request: r, PathParams: params, Route: route, Options: g.opts,
		}
		// Validation consumes the body; the handler gets its own copy.
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			g.record(r, "request: %s", flatten(err))
		}
		r.Body = io.NopCloser(bytes.NewReader(reqBody))

		rec := &recorder{header: w.Header(), status: http.StatusOK}
		next.ServeHTTP(rec, r)
		g.checkResponse(r, in, rec)

		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

func (g *Guard) checkResponse(r *http.Request, in *openapi3filter.RequestValidationInput, rec *recorder) {
	if rec.body.Len() == 0 && slices.Contains(g.cfg.bodilessCodes, rec.status) {
		return
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.status,
		Header:                 rec.header,
		Options:                g.opts,
	}
	out.SetBodyBytes(rec.body.Bytes())
	if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
		g.record(r, "response %d: %s", rec.status, flatten(err))
	}
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	defer r.Body.Close()
	return io.ReadAll(r.Body)
}

// flatten turns kin-openapi's nested errors into one line per cause.
func flatten(err error) string {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		parts := make([]string, 0, len(multi))
		for _, e := range multi {
			parts = append(parts, flatten(e))
		}
		return strings.Join(parts, "; ")
	}
	var reqErr *openapi3filter.RequestError
	if errors.As(err, &reqErr) {
		prefix := reqErr.Reason
		if reqErr.Parameter != nil {
			prefix = fmt.Sprintf("parameter %q in %s", reqErr.Parameter.Name, reqErr.Parameter.In)
			if reqErr.Reason != "" {
				prefix += ": " + reqErr.Reason
			}
		} else if prefix == "" {
			prefix = "body"
		}
		if reqErr.Err != nil {
			return prefix + ": " + flatten(reqErr.Err)
		}
		return prefix
	}
	var respErr *openapi3filter.ResponseError
	if errors.As(err, &respErr) {
		if respErr.Err != nil {
			return respErr.Reason + ": " + flatten(respErr.Err)
		}
		return respErr.Reason
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// recorder buffers a response so it can be checked before it reaches the client.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
