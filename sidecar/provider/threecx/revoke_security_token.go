package threecx

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// revokeInput is the input of both token revocations.
type revokeInput struct {
	ID     int32 `json:"id"`
	DryRun bool  `json:"dryRun"`
	Verify bool  `json:"verify"`
}

// Revoked names what a revocation action revoked, or in a dry run what it
// would revoke.
type Revoked struct {
	Resource string `json:"resource"`
	ID       int32  `json:"id"`
	Revoked  bool   `json:"revoked"`
	DryRun   bool   `json:"dryRun,omitempty"`
	// WouldRevoke is false in a dry run when the token is revoked already.
	WouldRevoke *bool `json:"wouldRevoke,omitempty"`
	// Token is the token as the PBX lists it, in a dry run.
	Token        json.RawMessage      `json:"token,omitempty"`
	Verified     *bool                `json:"verified,omitempty"`
	Verification *action.Verification `json:"verification,omitempty"`
}

func revokeSecurityToken(ctx context.Context, c *Client, in revokeInput) (any, error) {
	return revokeRefreshToken(ctx, c, "SecurityTokens", "SecurityToken", in)
}

// revokeRefreshToken revokes one refresh token through collection
// (SecurityTokens: any token; MyTokens: the principal's own). A dry run and
// a verification read the same collection filtered by id, because the XAPI
// has no read of one token; verification trusts nothing but its Revoked time.
func revokeRefreshToken(ctx context.Context, c *Client, collection, resource string, in revokeInput) (any, error) {
	out := Revoked{Resource: resource, ID: in.ID}
	if in.DryRun {
		st, err := c.token(ctx, collection, resource, in.ID)
		if err != nil {
			return nil, err
		}
		would := st.Revoked == nil
		out.DryRun, out.WouldRevoke, out.Token = true, &would, st.raw
		return out, nil
	}
	// Revoking twice leaves the token as revoking once does, so the
	// upstream client may retry it.
	ctx = upstream.WithRepeat(ctx, upstream.RepeatSafe)
	if _, err := c.do(ctx, http.MethodPost, entityPath(collection, in.ID, "Pbx.RevokeToken"), nil, nil); err != nil {
		return nil, err
	}
	out.Revoked = true
	if !in.Verify {
		return out, nil
	}
	method := describeTokenQuery(collection, in.ID)
	st, err := c.token(ctx, collection, resource, in.ID)
	if err != nil {
		out.Verified, out.Verification = new(bool), action.NotChecked(method, err)
		return out, nil
	}
	if st.Revoked == nil {
		return nil, action.Unverified("threecx", map[string]any{"status": http.StatusNoContent, "revoked": true},
			map[string]any{"method": method, "token": st.raw},
			"3CX answered the revocation of %s %d as done, but %s still lists it with Revoked null: the token was not revoked", resource, in.ID, collection)
	}
	evidence := map[string]any{"Revoked": *st.Revoked}
	if st.Reason != nil {
		evidence["ReasonRevoked"] = *st.Reason
	}
	yes := true
	out.Verified = &yes
	out.Verification = &action.Verification{Status: action.VerificationVerified, Method: method, Evidence: evidence,
		Detail: "3CX lists the token as revoked at " + *st.Revoked}
	return out, nil
}
