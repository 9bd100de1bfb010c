package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// Options tune a Client; zero fields take DefaultOptions.
type Options struct {
	// Timeout bounds one Revoke call, discovery and retries included:
	// limits.requestTimeout (open passes it); zero means upstream's default.
	Timeout time.Duration
	// DiscoveryTTL is how long an issuer's metadata is reused.
	DiscoveryTTL time.Duration
	Logger       *slog.Logger
}

// DefaultOptions are what NewClient uses for zero fields.
var DefaultOptions = Options{
	DiscoveryTTL: time.Hour,
}

// Client revokes tokens on one connection: it is the provider's session, so
// the registry keeps one per distinct connection and its discovered endpoint
// is reused. It is safe for concurrent use.
type Client struct {
	conn Connection
	x    *upstream.Exchanger
	opts Options
	log  *slog.Logger
	now  func() time.Time

	mu         sync.Mutex
	discovered *discovered
}

// NewClient builds a client for a validated connection. httpClient carries
// the connection's TLS settings (client certificate for tls_client_auth).
func NewClient(conn Connection, httpClient *http.Client, opts Options) *Client {
	d := DefaultOptions
	if opts.Timeout <= 0 {
		opts.Timeout = upstream.DefaultConfig().RequestTimeout
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
		conn: conn.withDefaults(),
		x:    &upstream.Exchanger{HTTP: &hc, Timeout: opts.Timeout, MaxAnswer: maxBody},
		opts: opts,
		log:  log.With("provider", ProviderID),
		now:  time.Now,
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

	p := &c.conn
	endpoint := p.fixedEndpoint()
	if endpoint == "" {
		var err error
		if endpoint, err = c.discover(ctx); err != nil {
			return nil, err
		}
	}
	body, contentType := dialects[p.Dialect].body(p, req)
	// Revoking twice is harmless, so the one retry policy repeats resets,
	// 429, 502, 504 and 503, RFC 7009's "the token still exists, try
	// again" (honouring Retry-After).
	call, secrets := p.clientCall(endpoint, body, contentType, req.Token)
	redact := secrets.Redact

	res := &Result{TokenFingerprint: Fingerprint(req.Token), TokenTypeHint: req.TokenTypeHint, Dialect: p.Dialect, Endpoint: endpoint}
	log := c.log.With("dialect", p.Dialect, "endpoint", endpoint, "token", res.TokenFingerprint)
	ans, err := c.send(ctx, call, secrets)
	if err != nil {
		prob := transportProblem(ctx, err, endpoint, p.ClientAuthMethod)
		log.Warn("oauth revocation failed", "kind", prob.Kind())
		return nil, prob
	}
	res.UpstreamStatus, res.Attempts = ans.status, ans.attempts
	switch {
	case ans.status == http.StatusServiceUnavailable:
		log.Warn("oauth revocation: server stayed unavailable", "attempts", ans.attempts)
		return nil, stillActive(ans.attempts, ans.waited, ans.header.Get("Retry-After"))
	case ans.status >= 200 && ans.status < 300:
		res.Revoked = true
		log.Info("oauth token revoked", "status", ans.status, "attempts", res.Attempts)
		return res, nil
	}
	prob := errorProblem(ans, endpoint, p, redact)
	log.Warn("oauth revocation refused", "status", ans.status, "kind", prob.Kind())
	return nil, prob
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

// clientCall is a POST to one of the server's endpoints (revocation,
// introspection) with the client authenticated as its method says, and the
// secrets it carries (the token, the client secret, the Basic header) for
// redaction. The call may be repeated: neither endpoint changes anything on
// a second identical request.
func (p *Connection) clientCall(endpoint string, body []byte, contentType, token string) (upstream.Call, *upstream.Secrets) {
	secret := p.ClientSecret.Reveal()
	call := upstream.Call{Method: http.MethodPost, URL: endpoint, Body: body,
		Header: http.Header{"Content-Type": {contentType}, "Accept": {"application/json"}},
		Repeat: upstream.RepeatSafe}
	if p.ClientAuthMethod == AuthClientSecretBasic {
		call.Header.Set("Authorization", basicAuthorization(p.ClientID, secret, !p.BasicWithoutFormEncoding))
	}
	return call, upstream.NewSecrets(token, secret).AddBasic(p.ClientID, secret)
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

// answer is what came back, body capped at maxBody and redacted unless it
// is a success.
type answer struct {
	status   int
	header   http.Header
	body     []byte
	attempts int           // requests sent, retries included
	waited   time.Duration // between them
}

// maxBody bounds what is read of an answer: a revocation's success says
// all in its status, and an error explains itself in far less.
const maxBody = 64 << 10

// send makes one exchange through the shared exchange. An answer longer
// than maxBody is kept as its start: its status is what matters.
func (c *Client) send(ctx context.Context, call upstream.Call, secrets *upstream.Secrets) (*answer, error) {
	x := *c.x
	x.Secrets = secrets
	ans, err := x.Do(ctx, call)
	var large *upstream.TooLargeError
	switch {
	case errors.As(err, &large):
		return &answer{status: large.Status, header: large.Header, body: large.Head, attempts: 1}, nil
	case err != nil:
		return nil, upstream.Cause(err)
	}
	return &answer{status: ans.Status, header: ans.Header, body: ans.Body, attempts: ans.Attempts, waited: ans.Waited}, nil
}

// stillActive is a revocation answered 503 after the retry policy ran out:
// RFC 7009 says the token was not revoked, so giving up must never look
// like success.
func stillActive(attempts int, waited time.Duration, retryAfter string) *action.Problem {
	p := action.NewProblem(action.KindOutcomeUnknown,
		"the revocation endpoint answered 503 Service Unavailable %d time(s) over %s; the token may still be active, so try again later",
		attempts, waited.Round(time.Millisecond))
	if d := upstream.RetryAfter(retryAfter, time.Now()); d > 0 {
		p.RetryAfterSeconds = int((d + time.Second - 1) / time.Second)
	}
	return p.WithUpstream(action.Upstream{Provider: ProviderID, Status: http.StatusServiceUnavailable})
}

// noRedirects stops the HTTP client at a 3xx: a revocation (or a metadata
// document) that moved is a configuration error to report, and following it
// would send the client's credentials somewhere nobody configured.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
