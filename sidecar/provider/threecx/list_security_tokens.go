package threecx

import "context"

func listSecurityTokens(ctx context.Context, c *Client, in ListOptions) (any, error) {
	return c.list(ctx, "SecurityTokens", in), nil
}
