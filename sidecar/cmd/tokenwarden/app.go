package main

import (
	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// newRegistry compiles every schema and binds every provider: the one
// start-up step shared by serve, demo and call.
func newRegistry() (*action.Registry, error) {
	set, err := action.LoadSchemas()
	if err != nil {
		return nil, err
	}
	return action.NewRegistry(set, action.Env{HTTP: upstream.NewFactory(upstream.DefaultConfig())}, providers.All()...)
}
