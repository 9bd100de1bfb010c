// Package appgate is the sidecar's client for the Appgate SDP controller's
// admin API: sign-in with token reuse, peer-version negotiation, and the
// on-boarded-devices calls behind the appgate.* actions.
package appgate

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// ProviderID names the provider in problems, logs and action ids.
const ProviderID = "appgate"

// Options are the process-level parts of a client; open fills them from
// action.Env.
type Options struct {
	// HTTPClient carries the connection's TLS policy; nil means http.DefaultClient.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Now is the client's clock, for deciding when a token is about to expire.
	Now func() time.Time
	// Timeout bounds one upstream call (and the wait for a sign-in):
	// limits.requestTimeout. Zero means upstream's default.
	Timeout time.Duration
	// SignIns holds the sign-in of every admin on every controller (nil: a
	// holder of this client's own).
	SignIns upstream.Holders
	// Memo keeps the peer versions each controller speaks, so every
	// connection (and, with a shared memo, every sidecar) to a controller
	// negotiates once. Nil: a memo of this client's own.
	Memo upstream.Memo
	// MaxAnswer bounds what is read of one answer (0:
	// upstream.DefaultMaxAnswer, which holds a revocation of 250 000
	// devices).
	MaxAnswer int64
}

// Client talks to one controller as one admin. It is safe for concurrent use;
// keep one per connection so calls share the sign-in.
type Client struct {
	conn    Connection
	x       *upstream.Exchanger
	log     *slog.Logger
	now     func() time.Time
	timeout time.Duration
	holder  upstream.Holder // nil for a connection with a ready bearer token
	memo    upstream.Memo
	probing singleflight.Group // one version probe at a time per client
}

// New builds the client for a schema-valid connection. It makes no network
// call: the first action signs in, so concurrent first calls share it.
func New(conn Connection, opts Options) (*Client, error) {
	conn, err := conn.normalized()
	if err != nil {
		return nil, err
	}
	c := &Client{conn: conn, log: opts.Logger, now: opts.Now, timeout: opts.Timeout, memo: opts.Memo}
	if c.timeout <= 0 {
		c.timeout = upstream.DefaultConfig().RequestTimeout
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	c.x = &upstream.Exchanger{HTTP: hc, Timeout: c.timeout, MaxAnswer: opts.MaxAnswer, Secrets: upstream.NewSecrets(conn.Password.Reveal(), conn.Token.Reveal())}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.memo == nil {
		c.memo = upstream.NewLocalMemo(c.now)
	}
	c.log = c.log.With("provider", ProviderID, "controller", conn.BaseURL)
	if conn.Token == "" {
		holders := opts.SignIns
		if holders == nil {
			holders = upstream.NewLocalHolders(c.now, c.timeout)
		}
		key := upstream.HolderKey{Provider: ProviderID, Account: upstream.AccountDigest(conn.BaseURL, conn.ProviderName, conn.Username, conn.Password.Reveal(), conn.DeviceID)}
		c.holder = holders.Holder(key, c.signIn)
		c.x.Holder = c.holder
	}
	return c, nil
}

// DeviceID is the admin device id the client signs in with.
func (c *Client) DeviceID() string { return c.conn.DeviceID }

// loginResponse is the part of the controller's login answer the client uses.
type loginResponse struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// exchangeProblem turns what the shared exchange could not get an answer
// for into the problem the caller sees. Every waiter of one sign-in gets
// the same error, so each gets its own copy of its problem.
func (c *Client) exchangeProblem(err error) error {
	var sv *staleVersion
	var p *action.Problem
	var wait *upstream.SignInWaitError
	var large *upstream.TooLargeError
	switch {
	case errors.As(err, &sv):
		cp := *sv.problem
		return &staleVersion{problem: &cp}
	case errors.As(err, &p):
		cp := *p
		return &cp
	case errors.As(err, &wait):
		return c.transportProblem(wait.Err)
	case errors.As(err, &large) && large.Mutating && large.Status >= 200 && large.Status <= 299:
		// The controller did it: a plain failure would invite a retry that
		// revokes again. What is not known is which devices it touched.
		p := action.NewProblem(action.KindOutcomeUnknown,
			"the Appgate controller at %s answered HTTP %d, so the call was most likely carried out, but its answer is longer than %d MiB and was not read: which devices it affected is unknown; check before repeating it",
			c.conn.BaseURL, large.Status, large.Limit>>20).WithUpstream(action.Upstream{Provider: ProviderID, Status: large.Status})
		p.Partial = map[string]any{"upstreamStatus": large.Status, "answerLongerThanBytes": large.Limit}
		return p
	case errors.As(err, &large):
		return action.NewProblem(action.KindUpstreamError, "the Appgate controller at %s answered HTTP %d with more than %d MiB", c.conn.BaseURL, large.Status, large.Limit>>20).
			WithUpstream(action.Upstream{Provider: ProviderID, Status: large.Status})
	}
	return c.transportProblem(err)
}

// signIn is the sign-in the holder runs for everyone waiting: the version
// negotiated with the controller, then POST /login.
func (c *Client) signIn(ctx context.Context) (upstream.Credential, error) {
	version, err := c.version(ctx)
	if err != nil {
		return upstream.Credential{}, err
	}
	body := map[string]string{
		"providerName": c.conn.ProviderName,
		"username":     c.conn.Username,
		"password":     c.conn.Password.Reveal(),
		"deviceId":     c.conn.DeviceID,
	}
	var resp loginResponse
	// A repeated sign-in only yields another token nobody holds yet.
	ctx = upstream.WithRepeat(upstream.SigningIn(ctx), upstream.RepeatSafe)
	status, raw, err := c.send(ctx, http.MethodPost, "/login", nil, body, version, true)
	if err != nil {
		return upstream.Credential{}, c.exchangeProblem(err)
	}
	switch {
	case status == http.StatusUnauthorized:
		return upstream.Credential{}, signInProblem(raw, c.conn.Username, c.conn.ProviderName)
	case status == http.StatusNotAcceptable:
		return upstream.Credential{}, &staleVersion{problem: versionRefused(status, raw, version, c.conn.APIVersion != 0)}
	case status != http.StatusOK:
		return upstream.Credential{}, upstreamProblem(status, raw, "signing in")
	}
	if err := json.Unmarshal(raw, &resp); err != nil || resp.Token == "" {
		return upstream.Credential{}, action.NewProblem(action.KindUpstreamError, "the controller's sign-in answer holds no token").
			WithUpstream(action.Upstream{Provider: ProviderID, Status: status})
	}
	now := c.now()
	if resp.Expires.IsZero() || !resp.Expires.After(now) {
		// Without a usable expiry, use the token for the calls waiting
		// for this sign-in only.
		resp.Expires = now
	}
	// Renew a tenth of the lifetime early (between 5 s and 5 min) so a
	// token never expires between our check and the controller's.
	margin := min(max(resp.Expires.Sub(now)/10, 5*time.Second), 5*time.Minute)
	c.log.Info("appgate sign-in", "username", c.conn.Username, "providerName", c.conn.ProviderName,
		"deviceId", c.conn.DeviceID, "peerVersion", version, "expires", resp.Expires)
	return upstream.Credential{Token: resp.Token, Expiry: resp.Expires.Add(-margin)}, nil
}

// staleVersion is a 406 at sign-in: the controller no longer speaks the
// version this client negotiated (it was upgraded since). The call loop
// negotiates again once; a caller that cannot ends with the problem.
type staleVersion struct{ problem *action.Problem }

func (e *staleVersion) Error() string { return e.problem.Error() }
func (e *staleVersion) Unwrap() error { return e.problem }

// renegotiate reports whether err is a refused version that negotiating
// again may cure, and if so forgets what was negotiated with this
// controller. It says yes once per call (tried) and never for a pinned
// apiVersion.
func (c *Client) renegotiate(ctx context.Context, err error, tried *bool) bool {
	var sv *staleVersion
	if *tried || c.conn.APIVersion != 0 || !errors.As(err, &sv) {
		return false
	}
	*tried = true
	c.memo.Forget(ctx, c.versionKey())
	return true
}

// finalProblem unwraps the internal marker so callers see the problem.
func finalProblem(err error) error {
	var sv *staleVersion
	if errors.As(err, &sv) {
		return sv.problem
	}
	return err
}

// Test signs in afresh (or, with a bearer token, makes one cheap
// authenticated call), proving the connection works.
func (c *Client) Test(ctx context.Context) error {
	if c.holder == nil {
		var out DeviceList
		return c.do(ctx, http.MethodGet, "/on-boarded-devices", url.Values{"range": {"0-1"}}, nil, &out)
	}
	if _, err := c.version(ctx); err != nil {
		return err
	}
	// A held token proves only that the password worked when it was
	// issued; the test must sign in now.
	c.holder.Forget(ctx)
	renegotiated := false
	for {
		wait, cancel := context.WithTimeout(ctx, c.timeout)
		_, err := c.holder.Token(wait, "")
		cancel()
		if err != nil {
			err = c.exchangeProblem(err)
		}
		if c.renegotiate(ctx, err, &renegotiated) {
			continue
		}
		return finalProblem(err)
	}
}

// do makes one authenticated call and decodes a 2xx answer into out. The
// shared exchange signs in again and retries once on a 401; a 406 on the
// call or on the sign-in before it (the controller was upgraded since we
// negotiated) negotiates again and retries once.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	renegotiated := false
	for {
		version, err := c.version(ctx)
		if err != nil {
			return err
		}
		status, raw, err := c.send(ctx, method, path, query, body, version, false)
		if err != nil {
			err = c.exchangeProblem(err)
		}
		if c.renegotiate(ctx, err, &renegotiated) {
			continue
		}
		if err != nil {
			return finalProblem(err)
		}
		switch {
		case status == http.StatusUnauthorized && c.holder == nil:
			return upstreamProblem(status, raw, "accepting the connection's token (it may have expired or been revoked)")
		case status == http.StatusNotAcceptable && c.conn.APIVersion == 0 && !renegotiated:
			renegotiated = true
			c.memo.Forget(ctx, c.versionKey())
			continue
		case status == http.StatusNotAcceptable:
			return versionRefused(status, raw, version, c.conn.APIVersion != 0)
		case status < 200 || status > 299:
			return upstreamProblem(status, raw, method+" "+path)
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return action.NewProblem(action.KindUpstreamError, "the controller's answer to %s %s is not the JSON the API documents: %v", method, path, err).
					WithUpstream(action.Upstream{Provider: ProviderID, Status: status})
			}
		}
		return nil
	}
}

// send makes one call through the shared exchange and returns the status
// and body (redacted unless it is a success). anonymous sends no token (the
// sign-in itself); otherwise the connection's own token or the holder's.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any, version int, anonymous bool) (int, []byte, error) {
	target := c.conn.BaseURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	call := upstream.Call{Method: method, URL: target, Header: http.Header{"Accept": {mediaType(version)}},
		Token: c.conn.Token.Reveal(), Anonymous: anonymous, Mutating: method != http.MethodGet && !anonymous}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, action.NewProblem(action.KindInternal, "encoding the request: %v", err)
		}
		call.Body = b
		call.Header.Set("Content-Type", "application/json")
	}
	ans, err := c.x.Do(ctx, call)
	if err != nil {
		return 0, nil, err
	}
	return ans.Status, ans.Body, nil
}

// transportProblem explains a call that got no answer.
func (c *Client) transportProblem(err error) *action.Problem {
	if p, ok := action.UpstreamFailure("the Appgate controller", c.conn.BaseURL, err); ok {
		return p.WithUpstream(action.Upstream{Provider: ProviderID})
	}
	var p *action.Problem
	switch upstream.Classify(err) {
	case upstream.FailTimeout:
		p = action.NewProblem(action.KindUpstreamTimeout, "the Appgate controller at %s did not answer in time", c.conn.BaseURL)
	case upstream.FailCancelled:
		p = action.NewProblem(action.KindUpstreamTimeout, "the call to the Appgate controller at %s was cancelled", c.conn.BaseURL)
	default:
		p = action.NewProblem(action.KindUpstreamUnreachable, "could not reach the Appgate controller at %s: %v", c.conn.BaseURL, upstream.Cause(err))
	}
	return p.WithUpstream(action.Upstream{Provider: ProviderID})
}
