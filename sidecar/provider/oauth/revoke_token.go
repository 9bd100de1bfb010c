package oauth

import "context"

// revokeTokenInput mirrors the input of schemas/actions/oauth.revokeToken.json.
type revokeTokenInput struct {
	Token         string `json:"token"`
	TokenTypeHint string `json:"tokenTypeHint,omitempty"`
	DryRun        bool   `json:"dryRun,omitempty"`
}

func revokeToken(ctx context.Context, c *Client, in revokeTokenInput) (any, error) {
	return c.RevokeToken(ctx, Request{Token: in.Token, TokenTypeHint: in.TokenTypeHint}, in.DryRun)
}
