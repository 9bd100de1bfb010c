// Package appgate is the sidecar's client for the Appgate SDP controller's
// admin API: sign-in with token reuse, peer-version negotiation, and the
// on-boarded-devices calls behind the appgate.* actions.
package appgate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// ProviderID names the provider in problems, logs and action ids.
const ProviderID = "appgate"

const (
	defaultTimeout = 30 * time.Second
	maxBody        = 8 << 20
)

// Options are the process-level parts of a client.
type Options struct {
	// HTTPClient carries the connection's TLS policy; nil means http.DefaultClient.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Now is the client's clock, for deciding when a token is about to expire.
	Now func() time.Time
	// Timeout bounds one upstream call (and each sign-in).
	Timeout time.Duration
}

// Client talks to one controller as one admin. It is safe for concurrent use;
// keep one per connection so calls share the sign-in.
type Client struct {
	conn    Connection
	http    *http.Client
	log     *slog.Logger
	now     func() time.Time
	timeout time.Duration

	mu      sync.Mutex
	token   string
	renewAt time.Time
	signIn  singleflight.Group
}

// New builds the client for a schema-valid connection. It makes no network
// call: the first action signs in, so concurrent first calls share it.
func New(conn Connection, opts Options) (*Client, error) {
	conn, err := conn.normalized()
	if err != nil {
		return nil, err
	}
	c := &Client{conn: conn, http: opts.HTTPClient, log: opts.Logger, now: opts.Now, timeout: opts.Timeout}
	if c.timeout == 0 {
		c.timeout = defaultTimeout
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.log = c.log.With("provider", ProviderID, "controller", conn.BaseURL)
	return c, nil
}

// DeviceID is the admin device id the client signs in with.
func (c *Client) DeviceID() string { return c.conn.DeviceID }

// loginResponse is the part of the controller's login answer the client uses.
type loginResponse struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// bearer returns a token to send: the connection's own, or the current
// sign-in's while it is not about to expire, or a fresh one. Concurrent
// callers share one sign-in.
func (c *Client) bearer(ctx context.Context, version int) (string, error) {
	if c.conn.Token != "" {
		return c.conn.Token.Reveal(), nil
	}
	if tok := c.currentToken(""); tok != "" {
		return tok, nil
	}
	return c.login(ctx, version, "")
}

// currentToken returns the token while it is fresh and is not the one a
// caller saw refused ("" when there is none).
func (c *Client) currentToken(refused string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.token != refused && c.now().Before(c.renewAt) {
		return c.token
	}
	return ""
}

// login signs in once for every caller waiting at the same time. A caller
// arriving just after a sign-in finished gets its token instead of starting
// another. The sign-in runs detached from any one caller's cancellation, so
// a caller that gives up does not fail the others.
func (c *Client) login(ctx context.Context, version int, refused string) (string, error) {
	ch := c.signIn.DoChan("login", func() (any, error) {
		if tok := c.currentToken(refused); tok != "" {
			return tok, nil
		}
		return c.doLogin(context.WithoutCancel(ctx), version)
	})
	select {
	case <-ctx.Done():
		return "", c.transportProblem(ctx.Err())
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	}
}

func (c *Client) doLogin(ctx context.Context, version int) (string, error) {
	body := map[string]string{
		"providerName": c.conn.ProviderName,
		"username":     c.conn.Username,
		"password":     c.conn.Password.Reveal(),
		"deviceId":     c.conn.DeviceID,
	}
	var resp loginResponse
	// A repeated sign-in only yields another token nobody holds yet.
	ctx = upstream.WithRepeat(upstream.SigningIn(ctx), upstream.RepeatSafe)
	status, raw, err := c.send(ctx, http.MethodPost, "/login", nil, body, version, "")
	if err != nil {
		return "", err
	}
	switch {
	case status == http.StatusUnauthorized:
		return "", signInProblem(raw, c.conn.Username, c.conn.ProviderName)
	case status == http.StatusNotAcceptable:
		return "", &staleVersion{problem: versionRefused(status, raw, version, c.conn.APIVersion != 0)}
	case status != http.StatusOK:
		return "", upstreamProblem(status, raw, "signing in")
	}
	if err := json.Unmarshal(raw, &resp); err != nil || resp.Token == "" {
		return "", action.NewProblem(action.KindUpstreamError, "the controller's sign-in answer holds no token").
			WithUpstream(action.Upstream{Provider: ProviderID, Status: status})
	}
	now := c.now()
	if resp.Expires.IsZero() || !resp.Expires.After(now) {
		// Without a usable expiry, use the token for this call only.
		resp.Expires = now
	}
	// Renew a tenth of the lifetime early (between 5 s and 5 min) so a
	// token never expires between our check and the controller's.
	margin := min(max(resp.Expires.Sub(now)/10, 5*time.Second), 5*time.Minute)
	c.mu.Lock()
	c.token, c.renewAt = resp.Token, resp.Expires.Add(-margin)
	c.mu.Unlock()
	c.log.Info("appgate sign-in", "username", c.conn.Username, "providerName", c.conn.ProviderName,
		"deviceId", c.conn.DeviceID, "peerVersion", version, "expires", resp.Expires)
	return resp.Token, nil
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
func (c *Client) renegotiate(err error, tried *bool) bool {
	var sv *staleVersion
	if *tried || c.conn.APIVersion != 0 || !errors.As(err, &sv) {
		return false
	}
	*tried = true
	negotiated.forget(c.conn.BaseURL)
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
	if c.conn.Token != "" {
		var out DeviceList
		return c.do(ctx, http.MethodGet, "/on-boarded-devices", url.Values{"range": {"0-1"}}, nil, &out)
	}
	renegotiated := false
	for {
		version, err := c.version(ctx)
		if err != nil {
			return err
		}
		_, err = c.login(ctx, version, c.currentToken(""))
		if c.renegotiate(err, &renegotiated) {
			continue
		}
		return finalProblem(err)
	}
}

// do makes one authenticated call and decodes a 2xx answer into out. A 401
// signs in again and retries once; a 406 on the call or on the sign-in
// before it (the controller was upgraded since we negotiated) negotiates
// again and retries once.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	renegotiated, refused := false, ""
	for {
		version, err := c.version(ctx)
		if err != nil {
			return err
		}
		var tok string
		if refused == "" {
			tok, err = c.bearer(ctx, version)
		} else {
			tok, err = c.login(ctx, version, refused)
		}
		if c.renegotiate(err, &renegotiated) {
			continue
		}
		if err != nil {
			return finalProblem(err)
		}
		status, raw, err := c.send(ctx, method, path, query, body, version, tok)
		if err != nil {
			return err
		}
		switch {
		case status == http.StatusUnauthorized && c.conn.Token == "" && refused == "":
			refused = tok
			continue
		case status == http.StatusUnauthorized && c.conn.Token != "":
			return upstreamProblem(status, raw, "accepting the connection's token (it may have expired or been revoked)")
		case status == http.StatusNotAcceptable && c.conn.APIVersion == 0 && !renegotiated:
			renegotiated = true
			negotiated.forget(c.conn.BaseURL)
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

// send makes one HTTP exchange and returns the status and body.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any, version int, tok string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	target := c.conn.BaseURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, action.NewProblem(action.KindInternal, "encoding the request: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, nil, action.NewProblem(action.KindInternal, "building the request: %v", err)
	}
	req.Header.Set("Accept", mediaType(version))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, c.transportProblem(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, c.transportProblem(err)
	}
	return resp.StatusCode, raw, nil
}

// transportProblem explains a call that got no answer.
func (c *Client) transportProblem(err error) *action.Problem {
	if p, ok := action.UpstreamFailure("the Appgate controller", c.conn.BaseURL, err); ok {
		return p.WithUpstream(action.Upstream{Provider: ProviderID})
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return action.NewProblem(action.KindUpstreamTimeout, "the Appgate controller at %s did not answer in time", c.conn.BaseURL).
			WithUpstream(action.Upstream{Provider: ProviderID})
	}
	if errors.Is(err, context.Canceled) {
		return action.NewProblem(action.KindUpstreamTimeout, "the call to the Appgate controller at %s was cancelled", c.conn.BaseURL).
			WithUpstream(action.Upstream{Provider: ProviderID})
	}
	// url.Error repeats the method and URL; the cause is what helps.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return action.NewProblem(action.KindUpstreamUnreachable, "could not reach the Appgate controller at %s: %v", c.conn.BaseURL, err).
		WithUpstream(action.Upstream{Provider: ProviderID})
}
