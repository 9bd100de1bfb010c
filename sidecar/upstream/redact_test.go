package upstream

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// Whatever spelling an echo uses for what the sidecar sent (form body,
// query, JSON string, Basic header, raw base64), the secret is blanked; a
// value too short to be a credential is left alone.
func TestSecretsRedactEveryEncoding(t *testing.T) {
	const secret = `p@ss w/"rd+&=ü`
	const id = "client:1"
	s := NewSecrets(secret, "tok-123456").AddBasic(id, secret)
	js, _ := json.Marshal(secret)
	for _, echoed := range []string{
		secret,
		url.Values{"client_secret": {secret}}.Encode(),
		url.PathEscape(secret),
		string(js),
		base64.StdEncoding.EncodeToString([]byte(secret)),
		"Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))),
		"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret)),
		"Authorization: Bearer tok-123456",
	} {
		got := s.Redact("echo: " + echoed + " end")
		if !strings.Contains(got, Redacted) || strings.Contains(got, secret) || strings.Contains(got, "tok-123456") ||
			strings.Contains(got, url.QueryEscape(secret)) {
			t.Errorf("%q redacted to %q", echoed, got)
		}
		if b := s.RedactBytes([]byte(echoed)); string(b) == echoed {
			t.Errorf("RedactBytes left %q", echoed)
		}
	}
	if got := NewSecrets("abc").Redact("abc abcd"); got != "abc abcd" {
		t.Errorf("a three-character value was redacted: %q", got)
	}
	var none *Secrets
	if none.Redact("x") != "x" || string(none.With("tok-abcdef").RedactBytes([]byte("tok-abcdef"))) != Redacted {
		t.Error("a nil Secrets must redact nothing, and With on it the values given")
	}
}
