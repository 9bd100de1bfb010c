package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// Introspection is an RFC 7662 answer, passed on without the token: the
// fields a flow decides on, in this API's spelling.
type Introspection struct {
	TokenFingerprint string `json:"tokenFingerprint"`
	Endpoint         string `json:"endpoint"`
	Active           bool   `json:"active"`
	TokenType        string `json:"tokenType,omitempty"`
	Exp              *int64 `json:"exp,omitempty"`
	ClientID         string `json:"clientId,omitempty"`
	Sub              string `json:"sub,omitempty"`
	Scope            string `json:"scope,omitempty"`
}

// introspectionAnswer is RFC 7662 §2.2's response, read liberally: active
// is the one member it requires.
type introspectionAnswer struct {
	Active    *bool        `json:"active"`
	TokenType string       `json:"token_type"`
	Exp       *json.Number `json:"exp"`
	ClientID  string       `json:"client_id"`
	Sub       string       `json:"sub"`
	Scope     string       `json:"scope"`
}

// IntrospectionEndpoint says where tokens of this connection can be
// introspected: given, else the issuer's introspection_endpoint (its RFC
// 8705 alias for client certificates). "" means nowhere known: a Nexus
// server documents no introspection, and a bare revocationUrl names none.
func (c *Client) IntrospectionEndpoint(ctx context.Context, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if c.conn.Dialect != DialectRFC7009 || c.conn.Issuer == "" {
		return "", nil
	}
	if _, err := c.discover(ctx); err != nil {
		return "", err
	}
	c.mu.Lock()
	m := c.discovered.meta
	c.mu.Unlock()
	if c.conn.ClientAuthMethod == AuthTLSClient && m.MTLSAliases.IntrospectionEndpoint != "" {
		return m.MTLSAliases.IntrospectionEndpoint, nil
	}
	return m.IntrospectionEndpoint, nil
}

// noIntrospection explains why a connection has no introspection endpoint.
func (c *Client) noIntrospection() string {
	switch {
	case c.conn.Dialect == DialectNexus:
		return "Technology Nexus documents no token introspection, so the server cannot show a token's state; give introspectionUrl if yours has an RFC 7662 endpoint"
	case c.conn.Dialect != DialectRFC7009:
		return "the " + c.conn.Dialect + " dialect has no RFC 7662 introspection, so the server cannot show a token's state here; give introspectionUrl if it has one"
	case c.conn.Issuer != "":
		return "the issuer's metadata publishes no introspection_endpoint, so the server cannot show a token's state; give introspectionUrl if it has one"
	default:
		return "the connection names a revocationUrl but no issuer, so no introspection endpoint is known and the server cannot show a token's state; give introspectionUrl (or use issuer)"
	}
}

// Introspect asks endpoint (RFC 7662) about a token, authenticating the
// client exactly as Revoke does. Reading changes nothing, so the upstream
// client may retry it.
func (c *Client) Introspect(ctx context.Context, endpoint string, req Request) (*Introspection, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	p := &c.conn
	// RFC 7662 §2.1 has the body and client authentication of RFC 7009:
	// token, token_type_hint, and the client where its method puts it.
	body, contentType := rfc7009{}.body(p, req)
	call, secrets := p.clientCall(endpoint, body, contentType, req.Token)
	redact := secrets.Redact
	ans, err := c.send(ctx, call, secrets)
	if err != nil {
		return nil, transportProblem(ctx, err, endpoint, p.ClientAuthMethod)
	}
	if ans.status != http.StatusOK {
		prob := errorProblem(ans, endpoint, p, redact)
		prob.Detail = strings.ReplaceAll(prob.Detail, "revocation", "introspection")
		return nil, prob
	}
	var a introspectionAnswer
	if err := json.Unmarshal(ans.body, &a); err != nil || a.Active == nil {
		return nil, action.NewProblem(action.KindUpstreamError, "the introspection endpoint at %s answered 200 without an RFC 7662 answer (a JSON object with active)", hostOf(endpoint)).
			WithUpstream(action.Upstream{Provider: ProviderID, Status: ans.status, Message: redact(describeBody(ans))})
	}
	out := &Introspection{TokenFingerprint: Fingerprint(req.Token), Endpoint: endpoint, Active: *a.Active,
		TokenType: a.TokenType, ClientID: a.ClientID, Sub: a.Sub, Scope: a.Scope}
	if a.Exp != nil {
		if n, err := a.Exp.Int64(); err == nil {
			out.Exp = &n
		} else if f, err := a.Exp.Float64(); err == nil {
			n := int64(f)
			out.Exp = &n
		}
	}
	// An inactive token's other members mean nothing (RFC 7662 §2.2).
	if !out.Active {
		*out = Introspection{TokenFingerprint: out.TokenFingerprint, Endpoint: endpoint}
	}
	return out, nil
}
