package main

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/audit"
	"github.com/tokenwarden/tokenwarden/sidecar/config"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/idempotency"
)

// apiMiddleware builds the /v1 middleware from the configuration, outside
// in: caller API key, in-flight tracking, audit, Idempotency-Key store. The
// closers release the audit file and the Redis connection.
func apiMiddleware(ctx context.Context, rt *runtime, stdout io.Writer) ([]func(http.Handler) http.Handler, *httpapi.InFlight, []io.Closer, error) {
	cfg := rt.cfg
	var mw []func(http.Handler) http.Handler
	var closers []io.Closer
	if key := requireKey(rt); key != nil {
		mw = append(mw, key)
	}
	inFlight := httpapi.NewInFlight()
	mw = append(mw, inFlight.Middleware)

	switch cfg.Audit.Sink {
	case "stdout":
		rt.audit = audit.NewLines(stdout)
		mw = append(mw, httpapi.Audit(rt.reg, rt.audit))
	case "file":
		lines, closer, err := audit.OpenFile(cfg.Audit.Path)
		if err != nil {
			return nil, nil, nil, err
		}
		closers = append(closers, closer)
		rt.audit = lines
		mw = append(mw, httpapi.Audit(rt.reg, lines))
	}

	var store idempotency.Store = idempotency.NewMemory(cfg.Idempotency.Retention.Std(), cfg.Idempotency.MaxEntries, cfg.Idempotency.MaxBytes)
	if url := cfg.Idempotency.RedisURL.Reveal(); url != "" {
		// A claim outlives any one call, so a sidecar that dies mid-call
		// frees its keys after a while.
		claim := max(2*cfg.Limits.RequestTimeout.Std(), time.Minute)
		r, err := idempotency.NewRedis(ctx, url, cfg.Idempotency.Retention.Std(), claim)
		if err != nil {
			for _, c := range closers {
				c.Close()
			}
			return nil, nil, nil, err
		}
		closers = append(closers, r)
		store = r
	}
	mw = append(mw, httpapi.Idempotency(store, rt.metrics.Replay))
	return mw, inFlight, closers, nil
}

// requireKey is the caller API key check, or nil when no keys are
// configured (a loopback listener). /metrics uses it alone.
func requireKey(rt *runtime) func(http.Handler) http.Handler {
	if rt.keys == nil {
		return nil
	}
	return rt.keys.Middleware
}

// callerKeys converts the configured keys for the API's check.
func callerKeys(cfg *config.Config) []httpapi.APIKey {
	keys := make([]httpapi.APIKey, len(cfg.APIKeys))
	for i, k := range cfg.APIKeys {
		keys[i] = httpapi.APIKey{ID: k.ID, Key: k.Value}
	}
	return keys
}
