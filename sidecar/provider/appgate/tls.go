package appgate

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"time"
)

// TLSOptions say how to trust the controller's certificate (a private CA, or
// none at all for self-signed appliances) and whether to present a client
// certificate.
type TLSOptions struct {
	CACertPEM              string `json:"caCertPem,omitempty"`
	ClientCertPEM          string `json:"clientCertPem,omitempty"`
	ClientKeyPEM           string `json:"clientKeyPem,omitempty"`
	AllowUnauthorizedCerts bool   `json:"allowUnauthorizedCerts,omitempty"`
}

// HTTPClient builds the HTTP client for these options.
func (o TLSOptions) HTTPClient(timeout time.Duration) (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.AllowUnauthorizedCerts} //nolint:gosec // the connection asked for it explicitly
	if o.CACertPEM != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(o.CACertPEM)) {
			return nil, errors.New("tls.caCertPem holds no usable certificate")
		}
		cfg.RootCAs = pool
	}
	if o.ClientCertPEM != "" || o.ClientKeyPEM != "" {
		cert, err := tls.X509KeyPair([]byte(o.ClientCertPEM), []byte(o.ClientKeyPEM))
		if err != nil {
			return nil, errors.New("tls.clientCertPem and tls.clientKeyPem are not a matching certificate and key")
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = cfg
	return &http.Client{Transport: transport, Timeout: timeout}, nil
}
