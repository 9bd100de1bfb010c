package threecx

import "context"

// listServicePrincipals reads ServicePrincipals, so a rotation flow can find
// the principal before generating its app token.
func listServicePrincipals(ctx context.Context, c *Client, in ListOptions) (any, error) {
	return c.list(ctx, "ServicePrincipals", in), nil
}
