package oauth

import (
	"encoding/json"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// ProviderID is the provider id of schemas/connections/oauth.json and the
// "provider" every problem and log line of this package carries.
const ProviderID = "oauth"

// Provider declares the OAuth actions; both dialects share one provider,
// the connection's dialect choosing between them.
func Provider() action.Provider {
	return action.Provider{
		ID: ProviderID,
		Actions: []action.Action{
			{ID: "oauth.revokeToken", Run: action.Typed(revokeToken)},
			{ID: "oauth.introspectToken", Run: action.Typed(introspectToken)},
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
	return NewClient(conn, httpClient, Options{Logger: env.Logger, Timeout: env.HTTP.RequestTimeout()}), nil
}
