package threecx

import "context"

// revokeMyRefreshToken revokes one of the signed-in principal's own refresh
// tokens (MyTokens({Id})/Pbx.RevokeToken), the pair of listRefreshTokens.
func revokeMyRefreshToken(ctx context.Context, c *Client, in revokeInput) (any, error) {
	return revokeRefreshToken(ctx, c, "MyTokens", "RefreshToken", in)
}
