package threecx

import (
	"context"
	"net/http"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// AppToken is the generated token. It is only ever written to the caller's
// response; nothing logs action results.
type AppToken struct {
	Resource string `json:"resource"`
	ID       int32  `json:"id"`
	AppToken string `json:"appToken"`
}

func generateAppToken(ctx context.Context, c *Client, in idInput) (any, error) {
	var out struct {
		Value string `json:"value"`
	}
	if _, err := c.do(ctx, http.MethodPost, entityPath("ServicePrincipals", in.ID, "Pbx.GenerateAppToken"), nil, &out); err != nil {
		return nil, err
	}
	if out.Value == "" {
		return nil, action.NewProblem(action.KindUpstreamError, "3CX answered GenerateAppToken without a token; a token may or may not have been generated for service principal %d", in.ID)
	}
	return AppToken{Resource: "ServicePrincipal", ID: in.ID, AppToken: out.Value}, nil
}
