package main

import (
	"log/slog"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// newRegistry builds the registry with the process's upstream policy and
// logger (nil: slog's default).
func newRegistry(logger *slog.Logger) (*action.Registry, error) {
	return providers.Registry(action.Env{HTTP: upstream.NewFactory(upstream.DefaultConfig()), Logger: logger})
}
