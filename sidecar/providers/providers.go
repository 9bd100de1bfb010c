// Package providers is the one greppable list of every upstream the sidecar
// speaks to. Adding a provider means adding a line here.
package providers

import (
	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/provider/appgate"
	"github.com/tokenwarden/tokenwarden/sidecar/provider/oauth"
	"github.com/tokenwarden/tokenwarden/sidecar/provider/threecx"
)

// All returns every provider, each declaring its actions.
func All() []action.Provider {
	return []action.Provider{
		threecx.Provider(),
		appgate.Provider(),
		oauth.Provider(),
	}
}

// Registry compiles every schema and binds every provider: the one start-up
// step shared by the CLI, the tests and the benchmarks.
func Registry(env action.Env) (*action.Registry, error) {
	set, err := action.LoadSchemas()
	if err != nil {
		return nil, err
	}
	return action.NewRegistry(set, env, All()...)
}
