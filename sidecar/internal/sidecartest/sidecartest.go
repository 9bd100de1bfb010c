// Package sidecartest serves the sidecar's HTTP API in tests, with every
// provider registered and output checking on, as the binary would run it.
package sidecartest

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/metrics"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// Registry builds the registry of every provider, logging to logger (nil:
// slog's default); handler results are checked against their output schemas.
func Registry(t testing.TB, logger *slog.Logger) *action.Registry {
	t.Helper()
	return registry(t, action.Env{Logger: logger})
}

// MeteredRegistry is Registry with m observing every upstream exchange, as
// serve wires it; pass m to httpapi.Options (Actions, Metrics) as well.
func MeteredRegistry(t testing.TB, m *metrics.Metrics, logger *slog.Logger) *action.Registry {
	t.Helper()
	cfg := upstream.DefaultConfig()
	cfg.Observer = &upstream.Observer{OnExchange: m.Exchange}
	return registry(t, action.Env{HTTP: upstream.NewFactory(cfg), Logger: logger})
}

func registry(t testing.TB, env action.Env) *action.Registry {
	t.Helper()
	reg, err := providers.Registry(env)
	if err != nil {
		t.Fatal(err)
	}
	reg.CheckOutput = true
	return reg
}

// Serve starts the API with opts and stops it when the test ends. Without a
// Registry, one of every provider is built that logs to opts.Logger too.
func Serve(t testing.TB, opts httpapi.Options) *httptest.Server {
	t.Helper()
	if opts.Registry == nil {
		opts.Registry = Registry(t, opts.Logger)
	}
	h, err := httpapi.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
