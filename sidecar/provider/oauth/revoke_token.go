package oauth

import (
	"context"
	"net/http"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// revokeTokenInput mirrors the input of schemas/actions/oauth.revokeToken.json.
type revokeTokenInput struct {
	Token            string `json:"token"`
	TokenTypeHint    string `json:"tokenTypeHint,omitempty"`
	DryRun           bool   `json:"dryRun"`
	Verify           bool   `json:"verify"`
	IntrospectionURL string `json:"introspectionUrl,omitempty"`
}

// revokeAnswer is a revocation's Outcome plus its verification.
type revokeAnswer struct {
	*Outcome
	Verified     *bool                `json:"verified,omitempty"`
	Verification *action.Verification `json:"verification,omitempty"`
}

// dryRunAnswer is what a revocation would do, from introspection where the
// server offers it.
type dryRunAnswer struct {
	Revoked          bool   `json:"revoked"`
	DryRun           bool   `json:"dryRun"`
	TokenFingerprint string `json:"tokenFingerprint"`
	TokenTypeHint    string `json:"tokenTypeHint,omitempty"`
	Dialect          string `json:"dialect"`
	Preset           string `json:"preset"`
	// WouldRevoke is false when introspection says the token is not active,
	// and absent when no introspection could tell.
	WouldRevoke   *bool          `json:"wouldRevoke,omitempty"`
	Introspection *Introspection `json:"introspection,omitempty"`
	Detail        string         `json:"detail"`
}

func revokeToken(ctx context.Context, c *Client, in revokeTokenInput) (any, error) {
	req := Request{Token: in.Token, TokenTypeHint: in.TokenTypeHint}
	if in.DryRun {
		// GitHub and Slack have a check of their own; every other server is
		// asked through introspection, where it offers one.
		if _, own := ownDialects[c.conn.Dialect]; own {
			return c.RevokeToken(ctx, req, true)
		}
		return previewRevocation(ctx, c, in, req)
	}
	res, err := c.RevokeToken(ctx, req, false)
	if err != nil || !in.Verify {
		return res, err
	}
	out := revokeAnswer{Outcome: res, Verified: new(bool)}
	endpoint, err := c.IntrospectionEndpoint(ctx, in.IntrospectionURL)
	switch {
	case err != nil:
		out.Verification = action.NotChecked("RFC 7662 introspection", err)
		return out, nil
	case endpoint == "":
		out.Verification = &action.Verification{Status: action.VerificationUnverifiable, Detail: c.noIntrospection() + "; the revocation was answered " + http.StatusText(res.UpstreamStatus)}
		return out, nil
	}
	method := "RFC 7662 introspection at " + endpoint
	seen, err := c.Introspect(ctx, endpoint, req)
	if err != nil {
		out.Verification = action.NotChecked(method, err)
		return out, nil
	}
	if seen.Active {
		return nil, action.Unverified(ProviderID, res, seen,
			"the OAuth server answered the revocation of %s with %d, but introspection at %s still says the token is active: it was not revoked",
			res.TokenFingerprint, res.UpstreamStatus, hostOf(endpoint))
	}
	yes := true
	out.Verified = &yes
	out.Verification = &action.Verification{Status: action.VerificationVerified, Method: method, Evidence: map[string]any{"active": false},
		Detail: "introspection says the token is no longer active"}
	return out, nil
}

func previewRevocation(ctx context.Context, c *Client, in revokeTokenInput, req Request) (any, error) {
	out := dryRunAnswer{DryRun: true, TokenFingerprint: Fingerprint(in.Token), TokenTypeHint: in.TokenTypeHint, Dialect: c.conn.Dialect, Preset: c.conn.Preset}
	endpoint, err := c.IntrospectionEndpoint(ctx, in.IntrospectionURL)
	if err != nil {
		return nil, err
	}
	if endpoint == "" {
		out.Detail = "Nothing was revoked. Whether the token is active cannot be told: " + c.noIntrospection() + "."
		return out, nil
	}
	seen, err := c.Introspect(ctx, endpoint, req)
	if err != nil {
		return nil, err
	}
	out.Introspection, out.WouldRevoke = seen, &seen.Active
	if seen.Active {
		out.Detail = "Nothing was revoked. The server says the token is active, so a revocation would end it."
	} else {
		out.Detail = "Nothing was revoked. The server says the token is not active (unknown, expired or revoked already), so a revocation would change nothing."
	}
	return out, nil
}
