// Package sidecartest serves the sidecar's HTTP API in tests, with every
// provider registered and output checking on, as the binary would run it.
package sidecartest

import (
	"net/http/httptest"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

// Registry builds the registry of every provider; handler results are
// checked against their output schemas.
func Registry(t testing.TB) *action.Registry {
	t.Helper()
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	reg.CheckOutput = true
	return reg
}

// Serve starts the API with opts (Registry filled in when nil) and stops it
// when the test ends.
func Serve(t testing.TB, opts httpapi.Options) *httptest.Server {
	t.Helper()
	if opts.Registry == nil {
		opts.Registry = Registry(t)
	}
	h, err := httpapi.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
