package threecx

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// AppToken is the generated token. It is only ever written to the caller's
// response; nothing logs action results.
type AppToken struct {
	Resource string `json:"resource"`
	ID       int32  `json:"id"`
	AppToken string `json:"appToken,omitempty"`
	DryRun   bool   `json:"dryRun,omitempty"`
	// Principal is, in a dry run, the service principal whose API key a
	// real call would replace.
	Principal json.RawMessage `json:"principal,omitempty"`
}

type generateInput struct {
	ID     int32 `json:"id"`
	DryRun bool  `json:"dryRun"`
}

func generateAppToken(ctx context.Context, c *Client, in generateInput) (any, error) {
	if in.DryRun {
		p, err := c.principal(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return AppToken{Resource: "ServicePrincipal", ID: in.ID, DryRun: true, Principal: p}, nil
	}
	// Each call mints a new token: once a request may have reached the PBX
	// it must not be sent again, or the caller would get a second token
	// and never learn of the first.
	ctx = upstream.WithRepeat(ctx, upstream.RepeatUnsafe)
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
