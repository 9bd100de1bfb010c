// Package providers is the one greppable list of every upstream the sidecar
// speaks to. Adding a provider means adding a line here.
package providers

import (
	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/provider/threecx"
)

// All returns every provider, each declaring its actions.
func All() []action.Provider {
	return []action.Provider{
		threecx.Provider(),
	}
}
