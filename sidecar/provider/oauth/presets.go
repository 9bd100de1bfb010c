package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// Presets: the servers people run, each named once. A preset says which
// dialect the server speaks, where its revocation endpoint is (from the few
// fields it needs), how the client authenticates there, and its quirks.
const (
	PresetRFC7009    = "rfc7009"
	PresetNexus      = "nexus"
	PresetGoogle     = "google"
	PresetOkta       = "okta"
	PresetAuth0      = "auth0"
	PresetKeycloak   = "keycloak"
	PresetSalesforce = "salesforce"
	PresetGitHub     = "github"
	PresetSlack      = "slack"
)

// Dialects that are not RFC 7009 at all: each has its own request and answer.
const (
	DialectGitHub = "github"
	DialectSlack  = "slack"
)

// Default addresses of the public platforms; baseUrl replaces them (GitHub
// Enterprise Server, the demo's emulators).
const (
	GitHubAPI = "https://api.github.com"
	SlackAPI  = "https://slack.com/api"
)

// preset is what one kind of server needs and does differently.
type preset struct {
	dialect string
	// auth is the client authentication the server expects when the
	// connection names none.
	auth string
	// endpoint builds the revocation URL from the connection's fields; nil
	// leaves it to revocationUrl, issuer or baseUrl as before presets.
	endpoint func(c Connection) string
	// ignoresHint: the server reads no token_type_hint, so none is sent and a
	// hint given is mentioned in the note.
	ignoresHint bool
	// refuses are hints the server cannot act on, with what to do instead:
	// refused before anything is sent, because the server would answer
	// success and revoke nothing.
	refuses map[string]string
	// alreadyGone are error codes (with a 400) that mean the token no longer
	// works: reported as success with the note.
	alreadyGone map[string]string
	// wrongType are error codes that mean the server does not revoke this kind
	// of token, with what to do instead.
	wrongType map[string]string
	// notes are said on success, by hint ("" for any).
	notes map[string]string
}

var presets = map[string]preset{
	PresetRFC7009: {dialect: DialectRFC7009, auth: AuthClientSecretBasic},
	PresetNexus:   {dialect: DialectNexus, auth: AuthClientSecretBasic},

	// Google: https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
	// POST https://oauth2.googleapis.com/revoke with the form field token and
	// no client authentication; 200 on success, 400 invalid_token ("Token
	// expired or revoked") otherwise. Revoking an access token also revokes
	// its refresh token.
	PresetGoogle: {
		dialect:     DialectRFC7009,
		auth:        AuthNone,
		endpoint:    func(Connection) string { return "https://oauth2.googleapis.com/revoke" },
		ignoresHint: true,
		alreadyGone: map[string]string{"invalid_token": "Google answered invalid_token: the token had already expired or been revoked (or was never issued), so it no longer works"},
		notes:       map[string]string{"": "Google revokes the whole grant: an access token's refresh token is revoked with it, and the reverse"},
	},

	// Okta: https://developer.okta.com/docs/guides/revoke-tokens/ and the
	// /revoke API reference. {domain}/oauth2/v1/revoke (org authorization
	// server) or {domain}/oauth2/{authorizationServerId}/v1/revoke (custom);
	// client authentication required, configured per app; 200 also for
	// invalid, expired or revoked tokens. Revoking an access token does not
	// revoke its refresh token; revoking a refresh token revokes its access
	// tokens.
	PresetOkta: {
		dialect: DialectRFC7009,
		auth:    AuthClientSecretBasic,
		endpoint: func(c Connection) string {
			if c.AuthorizationServerID != "" {
				return "https://" + c.Domain + "/oauth2/" + url.PathEscape(c.AuthorizationServerID) + "/v1/revoke"
			}
			return "https://" + c.Domain + "/oauth2/v1/revoke"
		},
		notes: map[string]string{HintAccessToken: "Okta revoked only this access token; the refresh token issued with it still works: revoke the refresh token to end the session"},
	},

	// Auth0: https://auth0.com/docs/secure/tokens/refresh-tokens/revoke-refresh-tokens
	// POST https://{domain}/oauth/revoke with client_id (and client_secret for
	// a confidential client) and token in the body; it revokes refresh
	// tokens only (its access tokens are JWTs that live until they expire),
	// documents no token_type_hint, and answers 200 also for invalid tokens.
	PresetAuth0: {
		dialect:     DialectRFC7009,
		auth:        AuthClientSecretPost,
		endpoint:    func(c Connection) string { return "https://" + c.Domain + "/oauth/revoke" },
		ignoresHint: true,
		refuses:     map[string]string{HintAccessToken: "Auth0 revokes refresh tokens only: its access tokens are self-contained JWTs that stay valid until they expire, and Auth0 would answer success without revoking anything. Revoke the refresh token the application holds instead"},
		notes:       map[string]string{"": "Auth0 revokes refresh tokens only and answers success for anything else, so an access token given here stays valid until it expires"},
	},

	// Keycloak: {baseUrl}/realms/{realm}/protocol/openid-connect/revoke
	// (keycloak/keycloak#6704, Keycloak 12). The first versions ignore
	// token_type_hint, revoke only refresh and offline tokens (ending the
	// client session, so its access tokens too) and answer
	// unsupported_token_type for an access token.
	PresetKeycloak: {
		dialect: DialectRFC7009,
		auth:    AuthClientSecretBasic,
		endpoint: func(c Connection) string {
			return strings.TrimRight(c.BaseURL, "/") + "/realms/" + url.PathEscape(c.Realm) + "/protocol/openid-connect/revoke"
		},
		ignoresHint: true,
		wrongType:   map[string]string{"unsupported_token_type": "this Keycloak version revokes refresh and offline tokens only: revoke the session's refresh token instead (that ends its access tokens too), or upgrade Keycloak, whose later versions also revoke access tokens"},
	},

	// Salesforce: https://developer.salesforce.com/docs/platform/mobile-sdk/guide/oauth-revoking-tokens.html
	// POST https://{MyDomainName}.my.salesforce.com/services/oauth2/revoke,
	// form field token only; 200 on success, 400 with invalid_token or
	// unsupported_token_type for every error. Revoking a refresh token revokes
	// its access tokens.
	PresetSalesforce: {
		dialect:     DialectRFC7009,
		auth:        AuthNone,
		endpoint:    func(c Connection) string { return "https://" + c.Domain + "/services/oauth2/revoke" },
		ignoresHint: true,
		alreadyGone: map[string]string{"invalid_token": "Salesforce answered invalid_token: the token had already expired or been revoked (or was never issued), so it no longer works"},
		wrongType:   map[string]string{"unsupported_token_type": "Salesforce does not revoke this kind of token at this endpoint: revoke the refresh token the app holds instead (that ends its access tokens too)"},
	},

	// GitHub and Slack speak their own APIs: github.go and slack.go.
	PresetGitHub: {dialect: DialectGitHub, auth: AuthClientSecretBasic, endpoint: func(c Connection) string {
		return strings.TrimRight(firstNonEmpty(c.BaseURL, GitHubAPI), "/") + "/applications/" + url.PathEscape(c.ClientID) + "/token"
	}},
	PresetSlack: {dialect: DialectSlack, auth: AuthNone, endpoint: func(c Connection) string {
		return strings.TrimRight(firstNonEmpty(c.BaseURL, SlackAPI), "/") + "/auth.revoke"
	}},
}

// presetOf names the connection's preset: preset, else the older dialect
// field, else rfc7009.
func (c Connection) presetOf() string {
	return firstNonEmpty(c.Preset, c.Dialect, PresetRFC7009)
}

// applyPreset fills the dialect, the client authentication and the endpoint
// the preset implies; revocationUrl, when given, still wins.
func (c Connection) applyPreset() Connection {
	c.Preset = c.presetOf()
	p := presets[c.Preset]
	c.Dialect = p.dialect
	if c.ClientAuthMethod == "" {
		c.ClientAuthMethod = p.auth
	}
	if c.RevocationURL == "" && p.endpoint != nil {
		c.RevocationURL = p.endpoint(c)
	}
	return c
}

// Outcome is the action's answer, the same for every preset and dialect:
// the token appears only as its fingerprint.
type Outcome struct {
	*Result
	Preset string `json:"preset"`
	// Note says what the server's answer means when it is not plain
	// (already gone, what else was or was not revoked, a hint left out).
	Note string `json:"note,omitempty"`
	// DryRun is set when the server only checked the token (Slack's test
	// mode, GitHub's "Check a token"): Revoked is then false, WouldRevoke
	// says whether the token works, and Detail says it in words.
	DryRun      bool   `json:"dryRun,omitempty"`
	WouldRevoke *bool  `json:"wouldRevoke,omitempty"`
	Detail      string `json:"detail,omitempty"`
}

// preview marks out as a dry run's answer.
func (out *Outcome) preview(would bool, detail string) *Outcome {
	out.DryRun, out.WouldRevoke, out.Detail = true, &would, detail
	return out
}

// ownDialect is a dialect with its own request and answer (not RFC 7009).
type ownDialect interface {
	revoke(ctx context.Context, c *Client, req Request, dryRun bool) (*Outcome, error)
	test(ctx context.Context, c *Client) error
	dryRuns() bool
}

var ownDialects = map[string]ownDialect{
	DialectGitHub: github{},
	DialectSlack:  slack{},
}

// RevokeToken revokes the token as the connection's preset expects: it
// leaves out hints the server does not read, refuses what the server would
// silently not revoke, and reads the server's quirky answers (already gone,
// wrong token type). dryRun asks the server only to check, where its API can.
func (c *Client) RevokeToken(ctx context.Context, req Request, dryRun bool) (*Outcome, error) {
	name := c.conn.Preset
	if d, ok := ownDialects[c.conn.Dialect]; ok {
		if dryRun && !d.dryRuns() {
			return nil, noDryRun(name)
		}
		return d.revoke(ctx, c, req, dryRun)
	}
	if dryRun {
		return nil, noDryRun(name)
	}
	p := presets[name]
	if why, refused := p.refuses[req.TokenTypeHint]; refused {
		return nil, action.InvalidInput([]action.FieldError{{Field: "input.tokenTypeHint", Message: why}})
	}
	var notes []string
	if p.ignoresHint && req.TokenTypeHint != "" {
		notes = append(notes, "the server reads no token type hint, so none was sent")
		req.TokenTypeHint = ""
	}
	res, err := c.Revoke(ctx, req)
	if err != nil {
		var prob *action.Problem
		if !errors.As(err, &prob) || prob.Upstream == nil || prob.Upstream.Status != http.StatusBadRequest {
			return nil, err
		}
		code := strings.ToLower(prob.Upstream.Code)
		if note, gone := p.alreadyGone[code]; gone {
			res = &Result{Revoked: true, TokenFingerprint: Fingerprint(req.Token), TokenTypeHint: req.TokenTypeHint, Dialect: c.conn.Dialect,
				Endpoint: c.conn.RevocationURL, UpstreamStatus: prob.Upstream.Status, Attempts: 1}
			return &Outcome{Result: res, Preset: name, Note: note}, nil
		}
		if what, wrong := p.wrongType[code]; wrong {
			p := action.NewProblem(action.KindUpstreamRejected, "the server answered %s: %s", prob.Upstream.Code, what)
			return nil, p.WithUpstream(*prob.Upstream)
		}
		return nil, err
	}
	if n := firstNonEmpty(p.notes[req.TokenTypeHint], p.notes[""]); n != "" {
		notes = append([]string{n}, notes...)
	}
	return &Outcome{Result: res, Preset: name, Note: strings.Join(notes, "; ")}, nil
}

func noDryRun(preset string) *action.Problem {
	return action.InvalidInput([]action.FieldError{{Field: "input.dryRun",
		Message: "preset " + preset + " has no dry run in its API (slack has auth.revoke test=1, github its token check): leave dryRun out"}})
}
