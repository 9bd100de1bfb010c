// Package threecx is the 3CX V20 XAPI provider: a client that keeps the
// PBX's single access token alive, and one file per action.
package threecx

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/secret"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// Connection mirrors schemas/connections/threecx.json.
type Connection struct {
	BaseURL           string               `json:"baseUrl"`
	ClientID          string               `json:"clientId"`
	ClientSecret      secret.Value         `json:"clientSecret"`
	TokenLifetimeUnit string               `json:"tokenLifetimeUnit"`
	TLS               *upstream.TLSOptions `json:"tls,omitempty"`
}

// Provider declares the 3CX actions.
func Provider() action.Provider {
	return action.Provider{
		ID: "threecx",
		Actions: []action.Action{
			{ID: "threecx.revokeSecurityToken", Run: action.Typed(revokeSecurityToken)},
			{ID: "threecx.listSecurityTokens", Run: action.Typed(listSecurityTokens)},
			{ID: "threecx.listRefreshTokens", Run: action.Typed(listRefreshTokens)},
			{ID: "threecx.generateAppToken", Run: action.Typed(generateAppToken)},
			{ID: "threecx.listServicePrincipals", Run: action.Typed(listServicePrincipals)},
			{ID: "threecx.revokeRefreshToken", Run: action.Typed(revokeMyRefreshToken)},
		},
		Open: open,
	}
}

func open(raw json.RawMessage, env action.Env) (action.Session, error) {
	conn, err := action.Decode[Connection](raw)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(strings.TrimRight(conn.BaseURL, "/"))
	if err != nil {
		return nil, &upstream.OptionError{Field: "baseUrl", Message: err.Error()}
	}
	httpClient, err := env.HTTP.Client(conn.TLS)
	if err != nil {
		return nil, err
	}
	return NewClient(base, conn, httpClient, env), nil
}
