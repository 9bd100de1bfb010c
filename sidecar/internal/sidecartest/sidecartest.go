// Package sidecartest serves the sidecar's HTTP API in tests, with every
// provider registered and output checking on, as the binary would run it.
package sidecartest

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

// Registry builds the registry of every provider, logging to logger (nil:
// slog's default); handler results are checked against their output schemas.
func Registry(t testing.TB, logger *slog.Logger) *action.Registry {
	t.Helper()
	reg, err := providers.Registry(action.Env{Logger: logger})
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

// LogBuffer collects log lines written from many goroutines, for tests that
// read back what was logged (most often: to prove no secret was).
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Logger is a debug-level JSON logger, the process's format, writing to l.
func (l *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
