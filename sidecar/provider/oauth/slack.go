package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// slack revokes a Slack token with the Web API method auth.revoke
// (https://docs.slack.dev/reference/methods/auth.revoke), which is not
// RFC 7009:
//
//   - the token to revoke is the caller's own token, sent as
//     "Authorization: Bearer"; no client authenticates;
//   - test=1 is Slack's dry run: the token is checked, not revoked;
//   - the answer is JSON with HTTP 200 whether it worked or not:
//     {"ok": true, "revoked": true} or {"ok": false, "error": "invalid_auth"};
//     its documented errors are invalid_auth, not_authed and
//     not_bearer_token, besides the errors every method shares
//     (token_revoked, token_expired, account_inactive, ratelimited as 429).
//
// Slack tokens say what they are by their prefix, so no hint is sent.
type slack struct{}

type slackAnswer struct {
	OK      bool   `json:"ok"`
	Revoked bool   `json:"revoked"`
	Error   string `json:"error"`
}

// slackGone are the shared errors that mean the token no longer works.
var slackGone = map[string]string{
	"token_revoked":    "Slack answered token_revoked: the token had already been revoked (or its app removed), so it no longer works",
	"token_expired":    "Slack answered token_expired: the token had already expired, so it no longer works",
	"account_inactive": "Slack answered account_inactive: the token's user or workspace is deactivated, so the token no longer works",
}

func (slack) dryRuns() bool { return true }

func (s slack) call(ctx context.Context, c *Client, endpoint, token string, form url.Values) (*answer, *slackAnswer, error) {
	call := upstream.Call{Method: http.MethodPost, URL: endpoint, Body: []byte(form.Encode()), Header: http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"},
		"Accept":       {"application/json"},
	}}
	if token != "" {
		call.Header.Set("Authorization", "Bearer "+token)
	}
	ans, err := c.send(ctx, call, upstream.NewSecrets(token))
	if err != nil {
		return nil, nil, transportProblem(ctx, err, endpoint, AuthNone)
	}
	var sa slackAnswer
	if ans.status != http.StatusOK || json.Unmarshal(ans.body, &sa) != nil {
		return ans, nil, nil
	}
	return ans, &sa, nil
}

func (s slack) revoke(ctx context.Context, c *Client, req Request, dryRun bool) (*Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	// Revoking twice is harmless here: the second answer is token_revoked,
	// which reads as already gone.
	ctx = upstream.WithRepeat(ctx, upstream.RepeatSafe)
	endpoint := c.conn.RevocationURL
	res := &Result{TokenFingerprint: Fingerprint(req.Token), Dialect: DialectSlack, Endpoint: endpoint, Attempts: 1}
	log := c.log.With("dialect", DialectSlack, "endpoint", endpoint, "token", res.TokenFingerprint)
	out := &Outcome{Result: res, Preset: PresetSlack}
	var notes []string
	if req.TokenTypeHint != "" {
		notes = append(notes, "Slack reads no token type hint, so none was sent")
	}
	form := url.Values{}
	if dryRun {
		form.Set("test", "1")
	}
	ans, sa, err := s.call(ctx, c, endpoint, req.Token, form)
	if err != nil {
		log.Warn("slack token revocation failed", "error", err)
		return nil, err
	}
	res.UpstreamStatus = ans.status
	redact := redactor(req.Token)
	switch {
	case sa == nil:
		return nil, s.httpProblem(c, endpoint, ans, redact)
	case sa.OK && dryRun:
		out.preview(true, "Nothing was revoked. Slack's test mode (auth.revoke test=1) says the token is valid, so a revocation would end it.")
	case sa.OK && sa.Revoked:
		res.Revoked = true
	case sa.OK:
		return nil, action.NewProblem(action.KindUpstreamError, "Slack at %s answered ok but not revoked; the token may still be active", hostOf(endpoint)).
			WithUpstream(action.Upstream{Provider: ProviderID, Status: ans.status})
	case slackGone[sa.Error] != "" && dryRun:
		out.preview(false, "Nothing was revoked. "+slackGone[sa.Error]+"; a revocation would change nothing.")
	case slackGone[sa.Error] != "":
		res.Revoked = true
		notes = append([]string{slackGone[sa.Error]}, notes...)
	default:
		prob := s.errorProblem(endpoint, ans.status, redact(sa.Error))
		log.Warn("slack token revocation refused", "error", prob.Upstream.Code, "kind", prob.Kind())
		return nil, prob
	}
	out.Note = strings.Join(notes, "; ")
	log.Info("slack token revocation answered", "revoked", res.Revoked, "dryRun", dryRun)
	return out, nil
}

// test calls api.test, which needs no token: it proves Slack's API answers
// at the configured address.
func (s slack) test(ctx context.Context, c *Client) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	endpoint := strings.TrimSuffix(c.conn.RevocationURL, "auth.revoke") + "api.test"
	ans, sa, err := s.call(ctx, c, endpoint, "", url.Values{})
	if err != nil {
		return err
	}
	if sa == nil {
		return s.httpProblem(c, endpoint, ans, redactor())
	}
	if !sa.OK {
		return s.errorProblem(endpoint, ans.status, sa.Error)
	}
	return nil
}

func (slack) errorProblem(endpoint string, status int, code string) *action.Problem {
	up := action.Upstream{Provider: ProviderID, Status: status, Code: code}
	host := hostOf(endpoint)
	var p *action.Problem
	switch code {
	case "invalid_auth":
		p = action.NewProblem(action.KindUpstreamRejected, "Slack at %s answered invalid_auth: it does not accept this token (not a Slack token, never issued, or sent from an IP address the workspace does not allow); nothing was revoked", host)
	case "not_bearer_token":
		p = action.NewProblem(action.KindUpstreamRejected, "Slack at %s answered not_bearer_token: auth.revoke cannot revoke this kind of token; revoke it where it was made (for example, remove the app or regenerate the token in the app's settings)", host)
	case "not_authed":
		p = action.NewProblem(action.KindUpstreamRejected, "Slack at %s answered not_authed: it received no token", host)
	default:
		p = action.NewProblem(action.KindUpstreamRejected, "Slack at %s refused the call (%s)", host, code)
	}
	return p.WithUpstream(up)
}

func (slack) httpProblem(c *Client, endpoint string, ans *answer, redact func(string) string) *action.Problem {
	up := action.Upstream{Provider: ProviderID, Status: ans.status, Message: redact(describeBody(ans))}
	kind := action.KindForUpstreamStatus(ans.status)
	if ans.status == http.StatusOK {
		kind = action.KindUpstreamError
	}
	p := action.NewProblem(kind, "Slack at %s answered %d with %s, not a Web API answer; the token may still be active", hostOf(endpoint), ans.status, up.Message)
	if kind == action.KindUpstreamRateLimit {
		if d := upstream.RetryAfter(ans.header.Get("Retry-After"), c.now()); d > 0 {
			p.RetryAfterSeconds = int((d + time.Second - 1) / time.Second)
		}
	}
	return p.WithUpstream(up)
}
