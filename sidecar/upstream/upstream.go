// Package upstream builds the HTTP clients providers use to reach upstream
// systems, so timeouts, TLS policy and connection pooling are decided once.
package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// TLSOptions mirrors schemas/defs/tls.json.
type TLSOptions struct {
	CACertPEM              string `json:"caCertPem,omitempty"`
	ClientCertPEM          string `json:"clientCertPem,omitempty"`
	ClientKeyPEM           string `json:"clientKeyPem,omitempty"`
	AllowUnauthorizedCerts bool   `json:"allowUnauthorizedCerts,omitempty"`
}

// Config is the process-wide policy for upstream calls.
type Config struct {
	ConnectTimeout time.Duration // dial + TLS handshake
	RequestTimeout time.Duration // one whole upstream exchange, retries included
	// MaxConnsPerHost bounds concurrent connections to one upstream host;
	// idle connections are kept up to the same number so bursts reuse them.
	MaxConnsPerHost int
	// MaxConcurrentPerHost bounds requests in flight to one upstream host
	// (HTTP/2 multiplexes many on one connection); 0 means MaxConnsPerHost.
	MaxConcurrentPerHost int
	// Destinations says which upstream addresses may be called.
	Destinations Destinations
	// Retry bounds retries; a zero MaxAttempts means DefaultRetryPolicy.
	Retry RetryPolicy
	// Observer receives exchanges, retries and refusals; nil for none.
	Observer *Observer
	// Lookup resolves host names; nil uses the system resolver. Tests
	// inject answers here so DNS tricks can be tried without a network.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// DefaultConfig suits a sidecar on the same network as its upstreams. 64
// connections per host is more concurrency than a PBX or a controller
// serves usefully; each idle connection keeps two goroutines and two 4 KiB
// buffers, so 256 cost about 3 MiB of RSS at c=256 for no throughput
// (make bench).
func DefaultConfig() Config {
	return Config{ConnectTimeout: 5 * time.Second, RequestTimeout: 30 * time.Second, MaxConnsPerHost: 64, Retry: DefaultRetryPolicy(),
		// A library default: the sidecar's own tests and emulators live on
		// loopback. `tokenwarden serve` turns this off (see Destinations).
		Destinations: Destinations{AllowLoopback: true}}
}

// Factory makes HTTP clients that share the process policy.
type Factory struct {
	cfg     Config
	guard   *guard
	limiter *limiter
	shared  http.RoundTripper // for connections without TLS options
}

// New returns a factory with the given policy. It fails only on an
// allowlist entry it cannot read.
func New(cfg Config) (*Factory, error) {
	def := DefaultConfig()
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = def.ConnectTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = def.RequestTimeout
	}
	if cfg.MaxConnsPerHost <= 0 {
		cfg.MaxConnsPerHost = def.MaxConnsPerHost
	}
	if cfg.MaxConcurrentPerHost <= 0 {
		cfg.MaxConcurrentPerHost = cfg.MaxConnsPerHost
	}
	if cfg.Retry.MaxAttempts <= 0 {
		wait := cfg.Retry.Wait
		cfg.Retry = def.Retry
		cfg.Retry.Wait = wait
	}
	g, err := newGuard(cfg.Destinations, cfg.Lookup)
	if err != nil {
		return nil, err
	}
	f := &Factory{cfg: cfg, guard: g, limiter: &limiter{max: cfg.MaxConcurrentPerHost, sems: map[string]chan struct{}{}}}
	f.shared = f.transport(nil)
	return f, nil
}

// NewFactory is New for a policy already checked (Destinations.Validate):
// it panics on an unreadable allowlist entry.
func NewFactory(cfg Config) *Factory {
	f, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return f
}

// RequestTimeout is the bound on one whole upstream exchange, retries and
// the answer's body included (limits.requestTimeout). Providers bound their
// own waits (for a sign-in under way, say) by it, so a caller always gets
// an answer within it.
func (f *Factory) RequestTimeout() time.Duration { return f.cfg.RequestTimeout }

// transport stacks the layers every upstream request goes through:
// destination check, retries, per-host concurrency limit, then the pooled
// connection whose dialler checks every resolved address.
func (f *Factory) transport(tlsCfg *tls.Config) http.RoundTripper {
	dialer := &net.Dialer{Timeout: f.cfg.ConnectTimeout, KeepAlive: 30 * time.Second, Control: f.guard.control}
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           f.guard.dialContext(dialer),
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   f.cfg.ConnectTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * f.cfg.MaxConnsPerHost,
		MaxIdleConnsPerHost:   f.cfg.MaxConnsPerHost,
		MaxConnsPerHost:       f.cfg.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: f.cfg.RequestTimeout,
	}
	var wire http.RoundTripper = base
	if f.cfg.Observer != nil && f.cfg.Observer.OnExchange != nil {
		wire = observed{next: base, onExchange: f.cfg.Observer.OnExchange}
	}
	limited := &limitTransport{next: wire, limiter: f.limiter}
	retried := &retryTransport{next: limited, policy: f.cfg.Retry, obs: f.cfg.Observer}
	return &guardTransport{next: retried, guard: f.guard, obs: f.cfg.Observer}
}

// Client returns a client for one connection. Connections without TLS
// options share one transport (and so one connection pool).
func (f *Factory) Client(opts *TLSOptions) (*http.Client, error) {
	rt := f.shared
	if opts != nil && (*opts != TLSOptions{}) {
		tlsCfg, err := opts.config()
		if err != nil {
			return nil, err
		}
		rt = f.transport(tlsCfg)
	}
	return &http.Client{
		// http.Client enforces Timeout cheaply (a context deadline) only on
		// a bare *http.Transport; around the layers above it starts a
		// goroutine and a timer per request. withDeadline gives the same
		// reach (retries and the body included) as a context deadline.
		Transport: withDeadline{next: rt, timeout: f.cfg.RequestTimeout},
		// Upstream APIs never need redirects to work, and following one
		// could send credentials somewhere the user did not configure. A
		// redirect towards a refused destination is named as such, so an
		// SSRF attempt through a redirect reads as one.
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if err := f.guard.checkTarget(req.Context(), req.URL.Hostname()); err != nil {
				if r, ok := IsRefused(err); ok {
					r.Reason += " (the upstream redirected there)"
					f.cfg.Observer.refused(r)
				}
				return err
			}
			return http.ErrUseLastResponse
		},
	}, nil
}

// guardTransport refuses a host by name before anything is sent (this
// also holds when a proxy does the dialling) and reports refusals.
type guardTransport struct {
	next  http.RoundTripper
	guard *guard
	obs   *Observer
}

func (t *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, err := t.guard.checkName(req.URL.Hostname()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		r, _ := IsRefused(err)
		t.obs.refused(r)
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if r, ok := IsRefused(err); ok {
		t.obs.refused(r)
	}
	return resp, err
}

func (o *TLSOptions) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CACertPEM != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(o.CACertPEM)) {
			return nil, &OptionError{Field: "tls.caCertPem", Message: "holds no usable certificate"}
		}
		cfg.RootCAs = pool
	}
	if o.ClientCertPEM != "" || o.ClientKeyPEM != "" {
		cert, err := tls.X509KeyPair([]byte(o.ClientCertPEM), []byte(o.ClientKeyPEM))
		if err != nil {
			// The key must not end up in the message, and X509KeyPair's
			// errors never include it.
			return nil, &OptionError{Field: "tls.clientCertPem", Message: err.Error()}
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	cfg.InsecureSkipVerify = o.AllowUnauthorizedCerts //nolint:gosec // only when the connection asks for it
	return cfg, nil
}

// OptionError names the connection field whose value cannot be used.
type OptionError struct {
	Field   string // path inside the connection, e.g. "tls.caCertPem"
	Message string
}

func (e *OptionError) Error() string { return e.Field + ": " + e.Message }
