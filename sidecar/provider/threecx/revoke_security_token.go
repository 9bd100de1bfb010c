package threecx

import (
	"context"
	"net/http"
)

type idInput struct {
	ID int32 `json:"id"`
}

// Revoked names what a revocation action revoked.
type Revoked struct {
	Resource string `json:"resource"`
	ID       int32  `json:"id"`
	Revoked  bool   `json:"revoked"`
}

func revokeSecurityToken(ctx context.Context, c *Client, in idInput) (any, error) {
	if _, err := c.do(ctx, http.MethodPost, entityPath("SecurityTokens", in.ID, "Pbx.RevokeToken"), nil, nil); err != nil {
		return nil, err
	}
	return Revoked{Resource: "SecurityToken", ID: in.ID, Revoked: true}, nil
}
