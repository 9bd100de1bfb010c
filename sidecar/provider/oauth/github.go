package oauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// github revokes the user access token of an OAuth app or a GitHub App
// (gho_ / ghu_) with GitHub's REST API, which is not RFC 7009
// (https://docs.github.com/rest/apps/oauth-applications#delete-an-app-token):
//
//   - DELETE {api}/applications/{client_id}/token, JSON {"access_token": ...},
//     Basic authentication with the app's client_id and client_secret as they
//     are (no form-encoding);
//   - 204 No Content on success, 422 Validation failed (or "the endpoint has
//     been spammed");
//   - "Check a token" (POST to the same path) answers 404 for invalid tokens,
//     which the connection test uses.
//
// The API has no dry run as such; "Check a token" tells whether a
// revocation would end a working token, which is what a dry run answers.
type github struct{}

// gitHubAPIVersion pins the REST API version the requests are written for.
const gitHubAPIVersion = "2022-11-28"

// gitHubError is GitHub's error body.
type gitHubError struct {
	Message string `json:"message"`
	Errors  []struct {
		Resource string `json:"resource"`
		Field    string `json:"field"`
		Code     string `json:"code"`
	} `json:"errors"`
}

func (github) dryRuns() bool { return true }

func (github) request(ctx context.Context, c *Client, method, token string) (*answer, error) {
	body, _ := json.Marshal(map[string]string{"access_token": token}) // strings only
	secret := c.conn.ClientSecret.Reveal()
	call := upstream.Call{Method: method, URL: c.conn.RevocationURL, Body: body, Header: http.Header{
		"Content-Type":         {"application/json"},
		"Accept":               {"application/vnd.github+json"},
		"X-Github-Api-Version": {gitHubAPIVersion},
		"Authorization":        {basicAuthorization(c.conn.ClientID, secret, false)},
	}, Mutating: method == http.MethodDelete}
	ans, err := c.send(ctx, call, upstream.NewSecrets(token, secret).AddBasic(c.conn.ClientID, secret))
	if err != nil {
		return nil, transportProblem(ctx, err, c.conn.RevocationURL, AuthClientSecretBasic)
	}
	return ans, nil
}

func (g github) revoke(ctx context.Context, c *Client, req Request, dryRun bool) (*Outcome, error) {
	if req.TokenTypeHint == HintRefreshToken {
		return nil, action.InvalidInput([]action.FieldError{{Field: "input.tokenTypeHint",
			Message: "GitHub's API revokes user access tokens (gho_, ghu_) only: give the access token and leave tokenTypeHint out or set it to access_token"}})
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	// A DELETE repeated after a lost answer would find the token gone and
	// read 404, reporting a revocation GitHub carried out as failed.
	ctx = upstream.WithRepeat(ctx, upstream.RepeatUnsafe)
	res := &Result{TokenFingerprint: Fingerprint(req.Token), TokenTypeHint: req.TokenTypeHint, Dialect: DialectGitHub, Endpoint: c.conn.RevocationURL, Attempts: 1}
	log := c.log.With("dialect", DialectGitHub, "endpoint", res.Endpoint, "token", res.TokenFingerprint)
	if dryRun {
		return g.check(ctx, c, req, res)
	}
	ans, err := g.request(ctx, c, http.MethodDelete, req.Token)
	if err != nil {
		log.Warn("github token revocation failed", "error", err)
		return nil, err
	}
	res.UpstreamStatus = ans.status
	if ans.status == http.StatusNoContent || ans.status == http.StatusOK {
		res.Revoked = true
		log.Info("github token revoked", "status", ans.status)
		return &Outcome{Result: res, Preset: PresetGitHub}, nil
	}
	prob := g.problem(c, ans, redactor(req.Token, c.conn.ClientSecret.Reveal()))
	log.Warn("github token revocation refused", "status", ans.status, "kind", prob.Kind())
	return nil, prob
}

// check answers a dry run with "Check a token": 200 means the token works
// and a revocation would end it, 404 that it does not (already revoked or
// expired, another app's, or no app has that client id).
func (g github) check(ctx context.Context, c *Client, req Request, res *Result) (*Outcome, error) {
	ans, err := g.request(ctx, c, http.MethodPost, req.Token)
	if err != nil {
		return nil, err
	}
	res.UpstreamStatus = ans.status
	out := &Outcome{Result: res, Preset: PresetGitHub}
	switch ans.status {
	case http.StatusOK:
		return out.preview(true, "Nothing was revoked. GitHub's token check says the token works for this app, so a revocation would end it."), nil
	case http.StatusNotFound:
		return out.preview(false, "Nothing was revoked. GitHub's token check knows no such token for this app (revoked or expired already, another app's, or a wrong client id), so a revocation would change nothing."), nil
	}
	return nil, g.problem(c, ans, redactor(req.Token, c.conn.ClientSecret.Reveal()))
}

// test checks a random token: GitHub answers 404 for a token it does not
// know once the app's credentials are right, and 401 when they are not.
func (g github) test(ctx context.Context, c *Client) error {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	ans, err := g.request(ctx, c, http.MethodPost, "gho_tokenwardentest"+hex.EncodeToString(b))
	if err != nil {
		return err
	}
	if ans.status == http.StatusNotFound || ans.status == http.StatusOK {
		return nil
	}
	return g.problem(c, ans, redactor(c.conn.ClientSecret.Reveal()))
}

func (github) problem(c *Client, ans *answer, redact func(string) string) *action.Problem {
	var ge gitHubError
	_ = json.Unmarshal(ans.body, &ge)
	up := action.Upstream{Provider: ProviderID, Status: ans.status, Message: redact(ge.Message)}
	for _, e := range ge.Errors {
		up.Errors = append(up.Errors, action.FieldError{Field: e.Field, Message: redact(e.Code)})
	}
	said := up.Message
	if said == "" {
		said = redact(describeBody(ans))
	}
	host := hostOf(c.conn.RevocationURL)
	var p *action.Problem
	switch ans.status {
	case http.StatusUnauthorized:
		p = action.NewProblem(action.KindUpstreamAuth, "GitHub at %s rejected the client id %q and secret (401, %s): use the OAuth or GitHub App's own client id and a current client secret", host, c.conn.ClientID, said)
	case http.StatusForbidden:
		p = action.NewProblem(action.KindForbiddenUpstream, "GitHub at %s refused (403, %s)", host, said)
	case http.StatusNotFound:
		p = action.NewProblem(action.KindUpstreamNotFound, "GitHub at %s knows no such token for app %q (404, %s): it was revoked or expired already, belongs to another app, or no app has that client id", host, c.conn.ClientID, said)
	case http.StatusUnprocessableEntity:
		p = action.NewProblem(action.KindUpstreamRejected, "GitHub at %s refused the request as invalid (422, %s); it also answers 422 when the endpoint is being spammed, so retry later if the token is right", host, said)
	default:
		kind := action.KindForUpstreamStatus(ans.status)
		p = action.NewProblem(kind, "%s", fmt.Sprintf("GitHub at %s answered %d (%s)", host, ans.status, said))
		if ans.status >= 500 {
			p.Detail += "; the token may still be active"
		}
	}
	return p.WithUpstream(up)
}
