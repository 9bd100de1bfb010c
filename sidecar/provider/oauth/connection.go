// Package oauth revokes OAuth 2.0 tokens: RFC 7009 revocation endpoints
// (given directly or discovered from an issuer) and the Technology Nexus
// dialect of the same operation.
package oauth

import (
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/secret"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
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

// Connection mirrors schemas/connections/oauth.json, which holds every
// constraint (which fields each dialect and method needs); the registry
// validates against it before a Connection is built.
type Connection struct {
	// Preset names the kind of server (presets.go); Dialect is its older
	// spelling for rfc7009 and nexus, and after withDefaults the wire dialect.
	Preset  string `json:"preset,omitempty"`
	Dialect string `json:"dialect,omitempty"`
	// Domain is the host of an Okta org, an Auth0 tenant or a Salesforce My
	// Domain; AuthorizationServerID an Okta custom authorization server;
	// Realm a Keycloak realm (below BaseURL).
	Domain                string `json:"domain,omitempty"`
	AuthorizationServerID string `json:"authorizationServerId,omitempty"`
	Realm                 string `json:"realm,omitempty"`
	// RevocationURL is the full endpoint URL.
	RevocationURL string `json:"revocationUrl,omitempty"`
	// Issuer is an RFC 8414 / OpenID issuer whose metadata names the
	// revocation_endpoint (rfc7009 only).
	Issuer string `json:"issuer,omitempty"`
	// BaseURL is a Nexus or Keycloak server's address, or GitHub's or
	// Slack's API root when not the public one.
	BaseURL string `json:"baseUrl,omitempty"`

	ClientID         string       `json:"clientId"`
	ClientSecret     secret.Value `json:"clientSecret,omitempty"`
	ClientAuthMethod string       `json:"clientAuthMethod,omitempty"`
	// BasicWithoutFormEncoding sends the Basic credentials as they are instead
	// of form-encoding them first (RFC 6749 §2.3.1): some servers never decode.
	BasicWithoutFormEncoding bool `json:"basicWithoutFormEncoding,omitempty"`

	// TLS carries the client certificate for tls_client_auth, extra CAs and
	// the explicit opt-out of certificate checks.
	TLS *upstream.TLSOptions `json:"tls,omitempty"`
}

// withDefaults fills what the schema defaults, for callers that build a
// Connection in Go rather than through the registry.
func (c Connection) withDefaults() Connection {
	c = c.applyPreset()
	if c.ClientAuthMethod == "" {
		c.ClientAuthMethod = AuthClientSecretBasic
	}
	return c
}

// fixedEndpoint is the revocation URL when it needs no discovery.
func (c Connection) fixedEndpoint() string {
	if c.RevocationURL != "" {
		return c.RevocationURL
	}
	if c.Dialect == DialectNexus {
		return strings.TrimRight(c.BaseURL, "/") + NexusRevokePath
	}
	return ""
}
