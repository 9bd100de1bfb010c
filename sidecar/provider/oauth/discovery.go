package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// metadata holds the fields of RFC 8414 authorization server metadata (also
// served as OpenID Connect Discovery) that revocation needs.
type metadata struct {
	Issuer             string `json:"issuer"`
	RevocationEndpoint string `json:"revocation_endpoint"`
	// IntrospectionEndpoint (RFC 7662) is optional: introspect.go uses it.
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	// MTLSAliases are RFC 8705 §5 endpoints to use with client certificates.
	MTLSAliases struct {
		RevocationEndpoint    string `json:"revocation_endpoint"`
		IntrospectionEndpoint string `json:"introspection_endpoint"`
	} `json:"mtls_endpoint_aliases"`
}

type discovered struct {
	meta    metadata
	fetched time.Time
}

// metadataURLs are where an issuer's metadata may be, in the order tried:
// RFC 8414 §3.1 inserts the well-known segment before the issuer's path;
// OpenID Connect Discovery §4 appends it.
func metadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil // the schema admits only absolute URLs
	}
	path := strings.TrimSuffix(u.Path, "/")
	rfc := *u
	rfc.Path = "/.well-known/oauth-authorization-server" + path
	rfc.RawPath = ""
	oidc := *u
	oidc.Path = path + "/.well-known/openid-configuration"
	oidc.RawPath = ""
	return []string{rfc.String(), oidc.String()}
}

// discover finds the issuer's revocation endpoint, reusing metadata fetched
// within DiscoveryTTL.
func (c *Client) discover(ctx context.Context) (string, error) {
	c.mu.Lock()
	d := c.discovered
	c.mu.Unlock()
	if d == nil || c.now().Sub(d.fetched) > c.opts.DiscoveryTTL {
		meta, err := c.fetchMetadata(ctx, c.conn.Issuer)
		if err != nil {
			return "", err
		}
		d = &discovered{meta: *meta, fetched: c.now()}
		c.mu.Lock()
		c.discovered = d
		c.mu.Unlock()
	}
	if c.conn.ClientAuthMethod == AuthTLSClient && d.meta.MTLSAliases.RevocationEndpoint != "" {
		return d.meta.MTLSAliases.RevocationEndpoint, nil
	}
	return d.meta.RevocationEndpoint, nil
}

func (c *Client) fetchMetadata(ctx context.Context, issuer string) (*metadata, error) {
	up := action.Upstream{Provider: ProviderID}
	var tried []string
	for _, where := range metadataURLs(issuer) {
		ans, err := c.send(ctx, upstream.Call{Method: http.MethodGet, URL: where, Header: http.Header{"Accept": {"application/json"}}}, nil)
		if err != nil {
			return nil, transportProblem(ctx, err, where, "")
		}
		if ans.status != http.StatusOK {
			tried = append(tried, fmt.Sprintf("%s answered %d", where, ans.status))
			continue
		}
		var m metadata
		if err := json.Unmarshal(ans.body, &m); err != nil {
			up.Status = ans.status
			return nil, action.NewProblem(action.KindUpstreamError, "the metadata at %s is not JSON", where).WithUpstream(up)
		}
		// RFC 8414 §3.3: metadata naming another issuer must not be used, or
		// a spoofed document could redirect the client's credentials.
		if strings.TrimSuffix(m.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
			return nil, action.NewProblem(action.KindUpstreamError, "the metadata at %s names issuer %q, not the configured %q", where, m.Issuer, issuer).WithUpstream(up)
		}
		if m.RevocationEndpoint == "" {
			return nil, action.NewProblem(action.KindUpstreamError, "issuer %s publishes no revocation_endpoint in its metadata (%s); give revocationUrl instead", issuer, where).WithUpstream(up)
		}
		for _, e := range []string{m.RevocationEndpoint, m.MTLSAliases.RevocationEndpoint, m.IntrospectionEndpoint, m.MTLSAliases.IntrospectionEndpoint} {
			if u, err := url.Parse(e); e != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
				return nil, action.NewProblem(action.KindUpstreamError, "the metadata of %s names a revocation or introspection endpoint that is not an absolute http(s) URL", issuer).WithUpstream(up)
			}
		}
		return &m, nil
	}
	return nil, action.NewProblem(action.KindUpstreamError, "no authorization server metadata found for issuer %s: %s", issuer, strings.Join(tried, "; ")).WithUpstream(up)
}
