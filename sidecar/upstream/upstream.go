// Package upstream builds the HTTP clients providers use to reach upstream
// systems, so timeouts, TLS policy and connection pooling are decided once.
package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
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
	RequestTimeout time.Duration // one whole upstream exchange
	// MaxConnsPerHost bounds concurrent connections to one upstream host;
	// idle connections are kept up to the same number so bursts reuse them.
	MaxConnsPerHost int
}

// DefaultConfig suits a sidecar on the same network as its upstreams.
func DefaultConfig() Config {
	return Config{ConnectTimeout: 5 * time.Second, RequestTimeout: 30 * time.Second, MaxConnsPerHost: 256}
}

// Factory makes HTTP clients that share the process policy.
type Factory struct {
	cfg    Config
	shared *http.Transport // for connections without TLS options
}

// NewFactory returns a factory with the given policy.
func NewFactory(cfg Config) *Factory {
	if cfg.ConnectTimeout <= 0 || cfg.RequestTimeout <= 0 || cfg.MaxConnsPerHost <= 0 {
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
	}
	f := &Factory{cfg: cfg}
	f.shared = f.transport(nil)
	return f
}

func (f *Factory) transport(tlsCfg *tls.Config) *http.Transport {
	dialer := &net.Dialer{Timeout: f.cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   f.cfg.ConnectTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * f.cfg.MaxConnsPerHost,
		MaxIdleConnsPerHost:   f.cfg.MaxConnsPerHost,
		MaxConnsPerHost:       f.cfg.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: f.cfg.RequestTimeout,
	}
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
		Transport: rt,
		Timeout:   f.cfg.RequestTimeout,
		// Upstream APIs never need redirects to work; following one could
		// send credentials somewhere the user did not configure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
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
