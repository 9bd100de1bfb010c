//go:build pprof

package main

// Profiling build (go build -tags pprof): serves net/http/pprof on the
// address in TOKENWARDEN_PPROF, which should be loopback. Release builds
// leave this file out, so they carry no profiling endpoint.

import (
	"net/http"
	_ "net/http/pprof" //nolint:gosec // opt-in profiling build only
	"os"
	"time"
)

func init() {
	if addr := os.Getenv("TOKENWARDEN_PPROF"); addr != "" {
		srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.ListenAndServe() }()
	}
}
