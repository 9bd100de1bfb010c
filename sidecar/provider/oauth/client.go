package oauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// RetryPolicy bounds how long a revocation answered with 503 is retried.
// RFC 7009 §2.2.1: 503 means the token was not revoked and the client should
// try again, so giving up must never look like success.
type RetryPolicy struct {
	Attempts     int           // total attempts, the first included
	BaseDelay    time.Duration // first wait when the server gives no Retry-After; doubles each time
	MaxDelay     time.Duration // cap on one wait, Retry-After included
	MaxTotalWait time.Duration // cap on the sum of the waits
}

// Options tune a Client; zero fields take DefaultOptions.
type Options struct {
	// Timeout bounds one Revoke call, discovery and retries included.
	Timeout time.Duration
	Retry   RetryPolicy
	// DiscoveryTTL is how long an issuer's metadata is reused.
	DiscoveryTTL time.Duration
	Logger       *slog.Logger
}

// DefaultOptions are what NewClient uses for zero fields.
var DefaultOptions = Options{
	Timeout:      30 * time.Second,
	Retry:        RetryPolicy{Attempts: 4, BaseDelay: 500 * time.Millisecond, MaxDelay: 5 * time.Second, MaxTotalWait: 10 * time.Second},
	DiscoveryTTL: time.Hour,
}

// Client revokes tokens on one connection: it is the provider's session, so
// the registry keeps one per distinct connection and its discovered endpoint
// is reused. It is safe for concurrent use.
type Client struct {
	conn  Connection
	http  *http.Client
	opts  Options
	log   *slog.Logger
	sleep func(context.Context, time.Duration) error
	now   func() time.Time

	mu         sync.Mutex
	discovered *discovered
}

// NewClient builds a client for a validated connection. httpClient carries
// the connection's TLS settings (client certificate for tls_client_auth).
func NewClient(conn Connection, httpClient *http.Client, opts Options) *Client {
	d := DefaultOptions
	if opts.Timeout <= 0 {
		opts.Timeout = d.Timeout
	}
	if opts.Retry.Attempts <= 0 {
		opts.Retry.Attempts = d.Retry.Attempts
	}
	if opts.Retry.BaseDelay <= 0 {
		opts.Retry.BaseDelay = d.Retry.BaseDelay
	}
	if opts.Retry.MaxDelay <= 0 {
		opts.Retry.MaxDelay = d.Retry.MaxDelay
	}
	if opts.Retry.MaxTotalWait <= 0 {
		opts.Retry.MaxTotalWait = d.Retry.MaxTotalWait
	}
	if opts.DiscoveryTTL <= 0 {
		opts.DiscoveryTTL = d.DiscoveryTTL
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	hc := *httpClient
	hc.CheckRedirect = noRedirects
	return &Client{
		conn:  conn.withDefaults(),
		http:  &hc,
		opts:  opts,
		log:   log.With("provider", ProviderID),
		sleep: sleepCtx,
		now:   time.Now,
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Request is one token to revoke.
type Request struct {
	Token string
	// TokenTypeHint is HintAccessToken, HintRefreshToken or empty.
	TokenTypeHint string
}

// Result names what was revoked without repeating the token.
type Result struct {
	Revoked          bool   `json:"revoked"`
	TokenFingerprint string `json:"tokenFingerprint"`
	TokenTypeHint    string `json:"tokenTypeHint,omitempty"`
	Dialect          string `json:"dialect"`
	Endpoint         string `json:"endpoint"`
	UpstreamStatus   int    `json:"upstreamStatus"`
	Attempts         int    `json:"attempts"`
}

// Fingerprint names a token in output and logs: a short SHA-256 prefix that
// lets a person match it against their own records without revealing it.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:6])
}

// Revoke asks the server to revoke the token. Success means the server
// answered 2xx, which RFC 7009 also gives for tokens it does not know.
func (c *Client) Revoke(ctx context.Context, req Request) (*Result, error) {
	if d, ok := ownDialects[c.conn.Dialect]; ok { // GitHub, Slack: not RFC 7009
		out, err := d.revoke(ctx, c, req, false)
		if err != nil {
			return nil, err
		}
		return out.Result, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	// Revoking twice is harmless, so the upstream client may retry resets,
	// 429, 502 and 504; a 503 is left to the loop below, which follows RFC
	// 7009 ("the token still exists").
	ctx = upstream.LeaveStatuses(upstream.WithRepeat(ctx, upstream.RepeatSafe), http.StatusServiceUnavailable)

	p := &c.conn
	endpoint := p.fixedEndpoint()
	if endpoint == "" {
		var err error
		if endpoint, err = c.discover(ctx); err != nil {
			return nil, err
		}
	}
	body, contentType := dialects[p.Dialect].body(p, req)
	secret := p.ClientSecret.Reveal()
	redact := redactor(req.Token, secret)

	res := &Result{TokenFingerprint: Fingerprint(req.Token), TokenTypeHint: req.TokenTypeHint, Dialect: p.Dialect, Endpoint: endpoint}
	log := c.log.With("dialect", p.Dialect, "endpoint", endpoint, "token", res.TokenFingerprint)
	var waited time.Duration
	for {
		res.Attempts++
		httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return nil, action.NewProblem(action.KindInternal, "cannot build the revocation request")
		}
		httpReq.Header.Set("Content-Type", contentType)
		httpReq.Header.Set("Accept", "application/json")
		if p.ClientAuthMethod == AuthClientSecretBasic {
			httpReq.Header.Set("Authorization", basicAuthorization(p.ClientID, secret, !p.BasicWithoutFormEncoding))
		}
		ans, err := send(c.http, httpReq)
		if err != nil {
			prob := transportProblem(ctx, err, endpoint, p.ClientAuthMethod)
			log.Warn("oauth revocation failed", "kind", prob.Kind(), "attempt", res.Attempts)
			return nil, prob
		}
		res.UpstreamStatus = ans.status
		if ans.status == http.StatusServiceUnavailable {
			wait, ok := c.nextWait(res.Attempts, waited, ans.header.Get("Retry-After"))
			if ok {
				log.Info("oauth revocation: server unavailable, retrying", "attempt", res.Attempts, "wait", wait)
				if err := c.sleep(ctx, wait); err != nil {
					return nil, stillActive(res.Attempts, waited, ans.header.Get("Retry-After"))
				}
				waited += wait
				continue
			}
			log.Warn("oauth revocation: server stayed unavailable", "attempts", res.Attempts)
			return nil, stillActive(res.Attempts, waited, ans.header.Get("Retry-After"))
		}
		if ans.status >= 200 && ans.status < 300 {
			res.Revoked = true
			log.Info("oauth token revoked", "status", ans.status, "attempts", res.Attempts)
			return res, nil
		}
		prob := errorProblem(ans, endpoint, p, redact)
		log.Warn("oauth revocation refused", "status", ans.status, "kind", prob.Kind())
		return nil, prob
	}
}

// Test proves the connection by revoking a random token that was never
// issued: RFC 7009 servers authenticate the client first and answer 200 for
// unknown tokens, so success means the endpoint and the credentials work,
// and nothing real is touched.
func (c *Client) Test(ctx context.Context) error {
	if d, ok := ownDialects[c.conn.Dialect]; ok {
		return d.test(ctx, c)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	_, err := c.RevokeToken(ctx, Request{Token: "tokenwarden-connection-test-" + hex.EncodeToString(b)}, false)
	return err
}

// basicAuthorization builds the header of RFC 6749 §2.3.1: id and secret are
// form-encoded before base64, unless the server is known not to decode them.
func basicAuthorization(id, secret string, formEncode bool) string {
	if formEncode {
		id, secret = url.QueryEscape(id), url.QueryEscape(secret)
	}
	r := http.Request{Header: http.Header{}}
	r.SetBasicAuth(id, secret)
	return r.Header.Get("Authorization")
}

// answer is what came back, body capped.
type answer struct {
	status int
	header http.Header
	body   []byte
}

const maxBody = 64 << 10

func send(hc *http.Client, req *http.Request) (*answer, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil && resp.StatusCode/100 != 2 {
		return nil, err
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// nextWait decides whether another attempt fits the policy and how long to
// wait for it: Retry-After when the server gives one, doubling otherwise.
func (c *Client) nextWait(attempts int, waited time.Duration, retryAfter string) (time.Duration, bool) {
	pol := c.opts.Retry
	if attempts >= pol.Attempts {
		return 0, false
	}
	wait := pol.BaseDelay << (attempts - 1)
	if d, ok := parseRetryAfter(retryAfter, c.now()); ok {
		wait = d
	}
	if wait > pol.MaxDelay {
		wait = pol.MaxDelay
	}
	if waited+wait > pol.MaxTotalWait {
		return 0, false
	}
	return wait, true
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var secs int
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func stillActive(attempts int, waited time.Duration, retryAfter string) *action.Problem {
	p := action.NewProblem(action.KindOutcomeUnknown,
		"the revocation endpoint answered 503 Service Unavailable %d time(s) over %s; the token may still be active, so try again later",
		attempts, waited.Round(time.Millisecond))
	if d, ok := parseRetryAfter(retryAfter, time.Now()); ok {
		p.RetryAfterSeconds = int((d + time.Second - 1) / time.Second)
	}
	return p.WithUpstream(action.Upstream{Provider: ProviderID, Status: http.StatusServiceUnavailable})
}

// noRedirects stops the HTTP client at a 3xx: a revocation (or a metadata
// document) that moved is a configuration error to report, and following it
// would send the client's credentials somewhere nobody configured.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
