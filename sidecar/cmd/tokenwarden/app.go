package main

import (
	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// newRegistry builds the registry with the process's upstream policy.
func newRegistry() (*action.Registry, error) {
	return providers.Registry(action.Env{HTTP: upstream.NewFactory(upstream.DefaultConfig())})
}
