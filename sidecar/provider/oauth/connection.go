// Package oauth revokes OAuth 2.0 tokens: RFC 7009 revocation endpoints
// (given directly or discovered from an issuer) and the Technology Nexus
// dialect of the same operation.
package oauth

import (
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// Dialects the client speaks.
const (
	DialectRFC7009 = "rfc7009"
	DialectNexus   = "nexus"
)

// Client authentication methods, named as RFC 8414 and RFC 8705 name them
// (the values of token_endpoint_auth_methods_supported).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthNone              = "none"
	AuthTLSClient         = "tls_client_auth"
)

// Token type hints as RFC 7009 names them; the Nexus dialect translates them.
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// NexusRevokePath is where a Nexus server takes revocations, below its base URL.
const NexusRevokePath = "/api/rest/v3.0/oauth/revoke"

// Connection says where the revocation endpoint is, who the client is and
// which dialect the server speaks. Its JSON names are the action's connection
// schema; the schema holds the constraints, Prepare the few it cannot express
// (parsing URLs and PEM blocks).
type Connection struct {
	Dialect string `json:"dialect,omitempty"`
	// RevocationURL is the full endpoint URL; it wins over Issuer and BaseURL.
	RevocationURL string `json:"revocationUrl,omitempty"`
	// Issuer is an RFC 8414 / OpenID issuer identifier whose metadata names
	// the revocation_endpoint.
	Issuer string `json:"issuer,omitempty"`
	// BaseURL is a Nexus server's API base; NexusRevokePath is appended.
	BaseURL string `json:"baseUrl,omitempty"`

	ClientID         string `json:"clientId,omitempty"`
	ClientSecret     string `json:"clientSecret,omitempty"`
	ClientAuthMethod string `json:"clientAuthMethod,omitempty"`
	// BasicWithoutFormEncoding sends the Basic credentials as they are instead
	// of form-encoding them first (RFC 6749 §2.3.1): some servers never decode.
	BasicWithoutFormEncoding bool `json:"basicWithoutFormEncoding,omitempty"`

	ClientCertificatePEM string `json:"clientCertificatePem,omitempty"`
	ClientKeyPEM         string `json:"clientKeyPem,omitempty"`
	CACertificatesPEM    string `json:"caCertificatesPem,omitempty"`
	// AllowUnauthorizedCerts skips server certificate verification; only ever
	// on explicit request (self-signed on-premise servers).
	AllowUnauthorizedCerts bool `json:"allowUnauthorizedCerts,omitempty"`
}

// prepared is a Connection with defaults applied and its PEM material parsed.
type prepared struct {
	Connection
	tls *tls.Config // nil when the default TLS settings do
}

// prepare applies defaults and checks what a schema cannot, naming every bad
// field under "connection.".
func (c Connection) prepare() (*prepared, []action.FieldError) {
	p := &prepared{Connection: c}
	if p.Dialect == "" {
		p.Dialect = DialectRFC7009
	}
	if p.ClientAuthMethod == "" {
		p.ClientAuthMethod = AuthClientSecretBasic
	}
	var errs []action.FieldError
	bad := func(field, msg string) {
		errs = append(errs, action.FieldError{Field: "connection." + field, Message: msg})
	}

	switch p.Dialect {
	case DialectRFC7009:
		if p.RevocationURL == "" && p.Issuer == "" {
			bad("revocationUrl", "give revocationUrl or issuer (the endpoint is then discovered)")
		}
	case DialectNexus:
		if p.RevocationURL == "" && p.BaseURL == "" {
			bad("baseUrl", "give baseUrl (the Nexus API base) or revocationUrl")
		}
		if p.ClientAuthMethod == AuthNone {
			bad("clientAuthMethod", "a Nexus server requires client authentication; 'none' is not accepted")
		}
	default:
		bad("dialect", "must be 'rfc7009' or 'nexus'")
	}
	for _, u := range []struct{ field, raw string }{{"revocationUrl", p.RevocationURL}, {"issuer", p.Issuer}, {"baseUrl", p.BaseURL}} {
		if u.raw == "" {
			continue
		}
		if msg := checkHTTPURL(u.raw); msg != "" {
			bad(u.field, msg)
		}
	}

	if p.ClientID == "" {
		bad("clientId", "is required")
	}
	switch p.ClientAuthMethod {
	case AuthClientSecretBasic, AuthClientSecretPost:
		if p.ClientSecret == "" {
			bad("clientSecret", "is required for "+p.ClientAuthMethod)
		}
	case AuthNone:
	case AuthTLSClient:
		if p.ClientCertificatePEM == "" {
			bad("clientCertificatePem", "is required for tls_client_auth")
		}
		if p.ClientKeyPEM == "" {
			bad("clientKeyPem", "is required for tls_client_auth")
		}
	default:
		bad("clientAuthMethod", "must be one of client_secret_basic, client_secret_post, none, tls_client_auth")
	}

	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	custom := false
	if p.CACertificatesPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(p.CACertificatesPEM)) {
			bad("caCertificatesPem", "holds no PEM certificate")
		}
		cfg.RootCAs, custom = pool, true
	}
	if p.ClientCertificatePEM != "" || p.ClientKeyPEM != "" {
		if p.ClientCertificatePEM != "" && p.ClientKeyPEM != "" {
			pair, err := tls.X509KeyPair([]byte(p.ClientCertificatePEM), []byte(p.ClientKeyPEM))
			if err != nil {
				// The parse error may quote key material, so it is not passed on.
				bad("clientCertificatePem", "the certificate and key are not a matching PEM pair")
			} else {
				cfg.Certificates, custom = []tls.Certificate{pair}, true
			}
		} else if p.ClientAuthMethod != AuthTLSClient {
			bad("clientCertificatePem", "give both the client certificate and its key, or neither")
		}
	}
	if p.AllowUnauthorizedCerts {
		cfg.InsecureSkipVerify, custom = true, true //nolint:gosec // only on the connection's explicit request
	}
	if custom {
		p.tls = cfg
	}

	return p, errs
}

func checkHTTPURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "must be an absolute http(s) URL"
	}
	if u.User != nil {
		return "must not carry credentials; use clientId and clientSecret"
	}
	if u.Fragment != "" {
		return "must not have a fragment"
	}
	return ""
}

// endpoint is the revocation URL when it does not need discovery.
func (p *prepared) endpoint() string {
	if p.RevocationURL != "" {
		return p.RevocationURL
	}
	if p.Dialect == DialectNexus {
		return strings.TrimRight(p.BaseURL, "/") + NexusRevokePath
	}
	return ""
}
