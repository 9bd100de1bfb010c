package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// oauthError is an error body as RFC 6749 §5.2 shapes it, read liberally: the
// Nexus dialect spells the description errorDescription.
type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	NexusDescription string `json:"errorDescription"`
}

// errorProblem turns a non-2xx, non-503 answer into the problem the caller sees.
func errorProblem(ans *answer, endpoint string, p *Connection, redact func(string) string) *action.Problem {
	host := hostOf(endpoint)
	up := action.Upstream{Provider: ProviderID, Status: ans.status}

	if ans.status >= 300 && ans.status < 400 {
		loc := ans.header.Get("Location")
		if u, err := url.Parse(loc); err == nil {
			loc = u.Redacted()
		}
		up.Message = "redirect to " + loc
		return action.NewProblem(action.KindUpstreamError,
			"the revocation endpoint at %s answered %d, a redirect to %q; redirects are not followed, so configure the final URL",
			host, ans.status, loc).WithUpstream(up)
	}

	var oe oauthError
	isJSON := json.Unmarshal(ans.body, &oe) == nil && oe.Error != ""
	if isJSON {
		up.Code = redact(oe.Error)
		up.Message = redact(firstNonEmpty(oe.ErrorDescription, oe.NexusDescription))
	} else {
		up.Message = redact(describeBody(ans))
	}
	said := up.Message
	if up.Code != "" {
		said = up.Code
		if up.Message != "" {
			said += ": " + up.Message
		}
	}

	kind := action.KindForUpstreamStatus(ans.status)
	switch strings.ToLower(up.Code) {
	case "invalid_client":
		kind = action.KindUpstreamAuth
	case "unauthorized_client", "access_denied":
		kind = action.KindForbiddenUpstream
	case "invalid_request", "unsupported_token_type", "invalid_grant":
		kind = action.KindUpstreamRejected
	case "server_error":
		kind = action.KindUpstreamError
	}

	var detail string
	switch kind {
	case action.KindUpstreamAuth:
		detail = fmt.Sprintf("the OAuth server at %s rejected the client credentials of %q (%s)", host, p.ClientID, said) + basicEncodingHint(p)
	case action.KindForbiddenUpstream:
		detail = fmt.Sprintf("the OAuth server at %s refused to let client %q revoke this token (%s)", host, p.ClientID, said)
	case action.KindUpstreamRejected:
		detail = fmt.Sprintf("the OAuth server at %s rejected the revocation request (%s)", host, said) + basicEncodingHint(p)
	case action.KindUpstreamNotFound:
		detail = fmt.Sprintf("nothing answers at %s (404, %s): check the revocation URL, issuer or base URL", endpoint, said)
	case action.KindUpstreamError:
		detail = fmt.Sprintf("the OAuth server at %s failed with status %d (%s); the token may still be active", host, ans.status, said)
	default:
		detail = fmt.Sprintf("the OAuth server at %s answered %d (%s)", host, ans.status, said)
	}
	return action.NewProblem(kind, "%s", detail).WithUpstream(up)
}

// basicEncodingHint suggests the other Basic encoding when the secret is one
// that RFC 6749's form-encoding changes: servers disagree on decoding it, and
// the refusal a server gives for the wrong choice rarely says so.
func basicEncodingHint(p *Connection) string {
	secret := p.ClientSecret.Reveal()
	if p.ClientAuthMethod != AuthClientSecretBasic || url.QueryEscape(secret) == secret {
		return ""
	}
	if p.BasicWithoutFormEncoding {
		return "; the Basic credentials were sent without RFC 6749 form-encoding (basicWithoutFormEncoding), which a server that decodes them cannot read: try turning it off"
	}
	return "; the secret has characters that RFC 6749 form-encoding changes, and some servers do not decode it: if the secret is right, try basicWithoutFormEncoding"
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

// describeBody says what a body that is not an OAuth error holds, briefly.
func describeBody(ans *answer) string {
	if len(ans.body) == 0 {
		return "empty body"
	}
	ct, _, _ := mime.ParseMediaType(ans.header.Get("Content-Type"))
	text := string(ans.body)
	if strings.Contains(ct, "html") || strings.HasPrefix(strings.TrimSpace(text), "<") {
		if m := titleRE.FindStringSubmatch(text); m != nil {
			return "an HTML page titled " + quoteShort(m[1])
		}
		return "an HTML page: " + quoteShort(tagRE.ReplaceAllString(text, " "))
	}
	return quoteShort(text)
}

func quoteShort(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return fmt.Sprintf("%q", s)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// redactor blanks the request's secrets (and their encodings) out of
// anything the server said before it reaches a problem or a log: some
// servers echo their input.
func redactor(secrets ...string) func(string) string {
	return upstream.NewSecrets(secrets...).Redact
}

func hostOf(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return "the configured address"
}

// transportProblem explains a request that got no HTTP answer.
func transportProblem(ctx context.Context, err error, endpoint, authMethod string) *action.Problem {
	host := hostOf(endpoint)
	up := action.Upstream{Provider: ProviderID}
	if p, ok := action.UpstreamFailure("the OAuth server", host, err); ok {
		return p.WithUpstream(up)
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
		return action.NewProblem(action.KindUpstreamTimeout, "the OAuth server at %s did not answer in time; the token may still be active", host).WithUpstream(up)
	}
	var opErr *net.OpError
	// A TLS alert from the server arrives as a "remote error".
	if errors.As(err, &opErr) && opErr.Op == "remote error" {
		if authMethod == AuthTLSClient {
			return action.NewProblem(action.KindUpstreamAuth, "the OAuth server at %s refused the client certificate during the TLS handshake (%v)", host, opErr.Err).WithUpstream(up)
		}
		return action.NewProblem(action.KindUpstreamUnreachable, "the OAuth server at %s refused the TLS handshake (%v); if it wants a client certificate, use tls_client_auth", host, opErr.Err).WithUpstream(up)
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &certErr):
		return action.NewProblem(action.KindUpstreamUnreachable, "the certificate of the OAuth server at %s is not trusted; give its CA in caCertificatesPem (%v)", host, rootCause(err)).WithUpstream(up)
	case errors.As(err, &hostErr):
		return action.NewProblem(action.KindUpstreamUnreachable, "the certificate of the OAuth server at %s does not name that host (%v)", host, rootCause(err)).WithUpstream(up)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return action.NewProblem(action.KindUpstreamUnreachable, "the OAuth server host %s could not be resolved", host).WithUpstream(up)
	}
	if errors.As(err, &opErr) {
		return action.NewProblem(action.KindUpstreamUnreachable, "the OAuth server at %s could not be reached (%v)", host, opErr.Err).WithUpstream(up)
	}
	return action.NewProblem(action.KindUpstreamUnreachable, "the OAuth server at %s could not be reached (%v)", host, rootCause(err)).WithUpstream(up)
}

// rootCause drops url.Error's method and URL prefix.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
