package threecx

import "context"

// listRefreshTokens reads MyTokens: the refresh tokens of the principal the
// connection signs in as.
func listRefreshTokens(ctx context.Context, c *Client, in ListOptions) (any, error) {
	return c.list(ctx, "MyTokens", in), nil
}
