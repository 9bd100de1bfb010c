package oauth

import (
	"context"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// introspectInput mirrors the input of schemas/actions/oauth.introspectToken.json.
type introspectInput struct {
	Token            string `json:"token"`
	TokenTypeHint    string `json:"tokenTypeHint,omitempty"`
	IntrospectionURL string `json:"introspectionUrl,omitempty"`
}

func introspectToken(ctx context.Context, c *Client, in introspectInput) (any, error) {
	endpoint, err := c.IntrospectionEndpoint(ctx, in.IntrospectionURL)
	if err != nil {
		return nil, err
	}
	if endpoint == "" {
		p := action.InvalidInput([]action.FieldError{{Field: "input.introspectionUrl", Message: "is required for this connection: " + c.noIntrospection()}})
		p.Detail = "no introspection endpoint is known for this connection: " + c.noIntrospection()
		return nil, p
	}
	return c.Introspect(ctx, endpoint, Request{Token: in.Token, TokenTypeHint: in.TokenTypeHint})
}
