package oauth

import (
	"encoding/json"
	"net/url"
)

// dialect builds the request body one kind of server expects.
type dialect interface {
	body(p *Connection, req Request) (body []byte, contentType string)
}

var dialects = map[string]dialect{
	DialectRFC7009: rfc7009{},
	DialectNexus:   nexus{},
}

// rfc7009 is the standard: a form-encoded token, an optional hint, and the
// client in exactly one place (RFC 7009 §2.1, RFC 6749 §2.3.1).
type rfc7009 struct{}

func (rfc7009) body(p *Connection, req Request) ([]byte, string) {
	form := url.Values{"token": {req.Token}}
	if req.TokenTypeHint != "" {
		form.Set("token_type_hint", req.TokenTypeHint)
	}
	switch p.ClientAuthMethod {
	case AuthClientSecretPost:
		form.Set("client_id", p.ClientID)
		form.Set("client_secret", p.ClientSecret.Reveal())
	case AuthNone, AuthTLSClient:
		// Public and certificate-bound clients identify themselves in the
		// body (RFC 6749 §3.2.1, RFC 8705 §2); servers that authenticate
		// nobody at revocation (Google, Salesforce) need no id.
		if p.ClientID != "" {
			form.Set("client_id", p.ClientID)
		}
	}
	return []byte(form.Encode()), "application/x-www-form-urlencoded"
}

// nexus is Technology Nexus' variant: a JSON body, capitalised hint values, and
// client credentials in the body only when neither Basic nor a client
// certificate authenticates the client (the server ignores them then).
type nexus struct{}

var nexusHints = map[string]string{HintAccessToken: "Access_Token", HintRefreshToken: "Refresh_Token"}

type nexusRevokeBody struct {
	Token         string `json:"token"`
	TokenTypeHint string `json:"token_type_hint,omitempty"`
	ClientID      string `json:"client_id,omitempty"`
	ClientSecret  string `json:"client_secret,omitempty"`
}

func (nexus) body(p *Connection, req Request) ([]byte, string) {
	b := nexusRevokeBody{Token: req.Token, TokenTypeHint: nexusHints[req.TokenTypeHint]}
	if p.ClientAuthMethod == AuthClientSecretPost {
		b.ClientID, b.ClientSecret = p.ClientID, p.ClientSecret.Reveal()
	}
	raw, _ := json.Marshal(b) // strings only: cannot fail
	return raw, "application/json"
}
