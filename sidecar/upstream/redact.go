package upstream

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
)

// Redacted replaces a secret in upstream text.
const Redacted = "[redacted]"

// minSecret is the shortest value redacted: shorter ones would blank out
// ordinary words, and no credential the sidecar sends is that short.
const minSecret = 4

// Secrets are the values a client sends as secrets (client secret,
// password, access token, the token being revoked). Redact blanks them, and
// the encodings they travel in (form and URL escaping, JSON escaping,
// base64 as in a Basic header), out of anything an upstream says, since an
// upstream or a proxy in front of it may echo the request back. A nil
// *Secrets redacts nothing.
type Secrets struct {
	values []string // longest first, so a longer variant is replaced whole
}

// NewSecrets returns the secrets and their encodings.
func NewSecrets(values ...string) *Secrets {
	s := &Secrets{}
	s.Add(values...)
	return s
}

// Add adds values (and their encodings) and returns s.
func (s *Secrets) Add(values ...string) *Secrets {
	for _, v := range values {
		if len(v) < minSecret {
			continue
		}
		js, _ := json.Marshal(v)
		for _, variant := range []string{v, url.QueryEscape(v), url.PathEscape(v), strings.Trim(string(js), `"`),
			base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))} {
			s.add(variant)
		}
	}
	sort.Slice(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
	return s
}

// AddBasic adds the Basic credentials built from id and secret, in both
// the RFC 6749 (form-encoded) and the plain spelling: the secret alone
// does not show in their base64.
func (s *Secrets) AddBasic(id, secret string) *Secrets {
	if len(secret) < minSecret {
		return s
	}
	for _, pair := range []string{id + ":" + secret, url.QueryEscape(id) + ":" + url.QueryEscape(secret)} {
		s.add(base64.StdEncoding.EncodeToString([]byte(pair)))
	}
	sort.Slice(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
	return s
}

func (s *Secrets) add(v string) {
	for _, have := range s.values {
		if have == v {
			return
		}
	}
	s.values = append(s.values, v)
}

// With returns the secrets plus values (say, the token one call sent),
// leaving s as it is.
func (s *Secrets) With(values ...string) *Secrets {
	out := &Secrets{}
	if s != nil {
		out.values = append(out.values, s.values...)
	}
	return out.Add(values...)
}

// Redact blanks every secret out of text.
func (s *Secrets) Redact(text string) string {
	if s == nil {
		return text
	}
	for _, v := range s.values {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Redacted)
		}
	}
	return text
}

// RedactBytes is Redact for a body; it returns b itself when no secret is
// in it.
func (s *Secrets) RedactBytes(b []byte) []byte {
	if s == nil {
		return b
	}
	for _, v := range s.values {
		if bytes.Contains(b, []byte(v)) {
			return []byte(s.Redact(string(b)))
		}
	}
	return b
}
