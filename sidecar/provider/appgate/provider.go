package appgate

import (
	"encoding/json"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// Provider declares the Appgate SDP actions.
func Provider() action.Provider {
	return action.Provider{
		ID: ProviderID,
		Actions: []action.Action{
			{ID: "appgate.revokeDeviceTokens", Run: action.Typed(revokeDeviceTokens)},
			{ID: "appgate.listOnboardedDevices", Run: action.Typed(listOnboardedDevices)},
		},
		Open: open,
	}
}

func open(raw json.RawMessage, env action.Env) (action.Session, error) {
	conn, err := action.Decode[Connection](raw)
	if err != nil {
		return nil, err
	}
	httpClient, err := env.HTTP.Client(conn.TLS)
	if err != nil {
		return nil, err
	}
	// The process clock decides token renewal and, for a dry run with an
	// empty filter, which devices count as active in the last 24 hours.
	return New(conn, Options{HTTPClient: httpClient, Logger: env.Logger, Now: env.Now, Timeout: env.HTTP.RequestTimeout(), SignIns: env.SignIns, Memo: env.Memo})
}
