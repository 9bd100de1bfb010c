package appgate

import (
	"context"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// tokenTypes are the spec's spellings; the schema accepts any letter case
// and the controller only these.
var tokenTypes = []string{"Claims", "AdminClaims", "Entitlement", "Administration"}

type revokeInput struct {
	DistinguishedNameFilter    string   `json:"distinguishedNameFilter"`
	SpecificDistinguishedNames []string `json:"specificDistinguishedNames"`
	SiteID                     string   `json:"siteId"`
	TokenType                  string   `json:"tokenType"`
	RevocationReason           string   `json:"revocationReason"`
	DelayMinutes               int      `json:"delayMinutes"`
	DevicesPerSecond           float64  `json:"devicesPerSecond"`
	ConfirmRevokeAll           bool     `json:"confirmRevokeAll"`
	DryRun                     bool     `json:"dryRun"`
	Verify                     bool     `json:"verify"`
}

// check refuses inputs the controller would read differently from what a
// flow builder most likely meant. The rules weigh several fields or parts of
// a value at once and the refusal must say why, which a schema message
// cannot, so they live here; the schema's descriptions tell the same story.
func (in revokeInput) check() error {
	if part, ok := emptyComponent(in.DistinguishedNameFilter); ok {
		p := action.InvalidInput([]action.FieldError{{Field: "input.distinguishedNameFilter",
			Message: "has a component without a value (" + part + "). As a starts-with filter it can hit far more devices than meant (\"CN=\" matches every device); " +
				"in a workflow this usually means an expression evaluated to an empty string."}})
		p.Detail = "distinguishedNameFilter has an empty component (" + part + "), most likely an expression that evaluated to nothing."
		return p
	}
	switch {
	case in.DistinguishedNameFilter != "" && len(in.SpecificDistinguishedNames) > 0:
		p := action.InvalidInput([]action.FieldError{{Field: "input.specificDistinguishedNames",
			Message: "is only used with an empty distinguishedNameFilter; the controller would ignore this list and revoke by the filter alone. Send one or the other."}})
		p.Detail = "specificDistinguishedNames and a non-empty distinguishedNameFilter cannot be combined: the controller would silently ignore the list."
		return p
	case in.DistinguishedNameFilter == "" && len(in.SpecificDistinguishedNames) == 0 && !in.ConfirmRevokeAll:
		p := action.InvalidInput([]action.FieldError{{Field: "input.distinguishedNameFilter",
			Message: "is empty, which makes the controller revoke the tokens of EVERY device active in the last 24 hours. " +
				"In a workflow this usually means an expression evaluated to an empty string by mistake. " +
				"Set confirmRevokeAll to true if that is what you want, or give a filter such as OU=ldap or CN=alice,OU=ldap."}})
		p.Detail = "Refused to revoke the tokens of every device active in the last 24 hours: distinguishedNameFilter is empty and confirmRevokeAll is not true."
		return p
	}
	return nil
}

// emptyComponent finds a "TYPE=" component with no value in a DN filter.
func emptyComponent(filter string) (string, bool) {
	for part := range strings.SplitSeq(filter, ",") {
		if typ, value, ok := strings.Cut(part, "="); ok && strings.TrimSpace(value) == "" {
			return strings.TrimSpace(typ) + "=", true
		}
	}
	return "", false
}

// canonicalTokenType returns the spec's spelling of a token type given in
// any letter case ("" stays "").
func canonicalTokenType(s string) string {
	for _, t := range tokenTypes {
		if strings.EqualFold(t, s) {
			return t
		}
	}
	return s
}

// revokeMeta is the controller's list envelope plus what a dry run or a
// verification adds.
type revokeMeta struct {
	ListMeta
	DryRun       bool                 `json:"dryRun,omitempty"`
	Caveats      []string             `json:"caveats,omitempty"`
	Verified     *bool                `json:"verified,omitempty"`
	Verification *action.Verification `json:"verification,omitempty"`
}

// noTokenState is said plainly rather than guessed: Appgate's admin API has
// no read of a device's token state, so a revocation cannot be proven.
const noTokenState = "The Appgate admin API shows no token state: no call reads whether a device's tokens are revoked, so this revocation cannot be verified. " +
	"What the API can show: the devices the controller says it revoked (data, from its own answer) and when each device last signed in (lastSeenAt, GET /on-boarded-devices). " +
	"A device seen again after delayMinutes has renewed its token, which a user who is still entitled to access may do."

func revokeDeviceTokens(ctx context.Context, c *Client, in revokeInput) (any, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	req := RevokeRequest{
		DistinguishedNameFilter:    in.DistinguishedNameFilter,
		SpecificDistinguishedNames: in.SpecificDistinguishedNames,
		SiteID:                     in.SiteID,
		TokenType:                  canonicalTokenType(in.TokenType),
		RevocationReason:           in.RevocationReason,
		DelayMinutes:               &in.DelayMinutes,
		DevicesPerSecond:           &in.DevicesPerSecond,
	}
	if in.DryRun {
		p, err := c.PreviewRevocation(ctx, req)
		if err != nil {
			return nil, err
		}
		return action.Result{Data: p.Devices, Meta: revokeMeta{ListMeta: p.Meta, DryRun: true, Caveats: p.Caveats}}, nil
	}
	list, err := c.RevokeTokens(ctx, req)
	if err != nil {
		return nil, err
	}
	res := list.result()
	if !in.Verify {
		return res, nil
	}
	meta := revokeMeta{ListMeta: res.Meta.(ListMeta), Verified: new(bool),
		Verification: &action.Verification{Status: action.VerificationUnverifiable, Detail: noTokenState}}
	return action.Result{Data: res.Data, Meta: meta}, nil
}
