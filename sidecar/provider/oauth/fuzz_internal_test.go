package oauth

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// tokenAlphabet is what real tokens are made of (RFC 6750's b64token).
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="

// FuzzErrorProblem: any error answer, in either dialect, becomes a problem
// that encodes and keeps the status, and a server that echoes the token or
// the client secret back gets neither into the problem.
func FuzzErrorProblem(f *testing.F) {
	f.Add(400, "application/json", []byte(`{"error":"invalid_request","error_description":"bad TOKEN"}`), "tok-1234", 5, false)
	f.Add(401, "application/json", []byte(`{"error":"INVALID_CLIENT","errorDescription":"Client authentication failed"}`), "abcd", 0, true)
	f.Add(502, "text/html", []byte(`<html><title>Bad Gateway</title></html>`), "tok-5678", 12, false)
	f.Add(302, "", []byte{}, "zzzz", 0, false)
	f.Add(500, "text/plain", []byte("\xff\xfe\x00"), "a/b+c=", 1, true)
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte, token string, at int, nexus bool) {
		if status < 300 || status > 599 || status == http.StatusServiceUnavailable {
			status = 400 + (status%100+100)%100
		}
		if len(token) < 4 || strings.Trim(token, tokenAlphabet) != "" {
			token = "fuzz-token-0001"
		}
		at = (at%(len(body)+1) + len(body) + 1) % (len(body) + 1)
		echoed := string(body[:at]) + token + string(body[at:])
		conn := &Connection{Dialect: DialectRFC7009, ClientID: "client", ClientSecret: "client-secret-value", ClientAuthMethod: AuthClientSecretBasic}
		if nexus {
			conn.Dialect = DialectNexus
		}
		ans := &answer{status: status, header: http.Header{"Content-Type": {contentType}, "Location": {"https://x.example/" + token}}, body: []byte(echoed)}
		p := errorProblem(ans, "https://as.example/revoke", conn, redactor(token, conn.ClientSecret.Reveal()))
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("does not encode: %v", err)
		}
		if p.Upstream == nil || p.Upstream.Status != status || p.Status < 400 {
			t.Fatalf("lost the status: %s", out)
		}
		if status < 300 || status >= 400 {
			if strings.Contains(string(out), token) {
				t.Fatalf("the echoed token reached the problem: %s", out)
			}
		}
	})
}
