package oauth_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// A preset needs its own few fields and refuses the others, and every bad
// field is named at once.
func TestPresetConnectionsNameEveryBadField(t *testing.T) {
	s := startSidecar(t)
	for _, tc := range []struct {
		name string
		conn map[string]any
		want []string
	}{
		{"okta without domain", map[string]any{"preset": "okta", "clientId": "a", "clientSecret": "s", "realm": "x"}, []string{"connection.domain", "connection.realm"}},
		{"keycloak without base and realm", map[string]any{"preset": "keycloak", "clientId": "a", "clientSecret": "s", "domain": "sso.example.com"}, []string{"connection.baseUrl", "connection.domain", "connection.realm"}},
		{"auth0 without client", map[string]any{"preset": "auth0", "domain": "example.us.auth0.com"}, []string{"connection.clientId", "connection.clientSecret"}},
		{"google with an issuer", map[string]any{"preset": "google", "issuer": "https://accounts.google.com", "clientAuthMethod": "client_secret_basic"}, []string{"connection.clientAuthMethod", "connection.clientSecret", "connection.issuer"}},
		{"salesforce with a URL as domain", map[string]any{"preset": "salesforce", "domain": "https://example.my.salesforce.com/"}, []string{"connection.domain"}},
		{"github without secret", map[string]any{"preset": "github", "clientId": "Iv1.a", "domain": "github.com"}, []string{"connection.clientSecret", "connection.domain"}},
		{"slack with a client", map[string]any{"preset": "slack", "clientId": "a", "clientSecret": "s"}, []string{"connection.clientId", "connection.clientSecret"}},
		{"preset and dialect", map[string]any{"preset": "rfc7009", "dialect": "nexus", "revocationUrl": "https://a.example/revoke", "clientId": "a", "clientSecret": "s"}, []string{"connection.dialect"}},
	} {
		status, body := s.revoke(t, tc.conn, map[string]any{"token": "t"})
		var fields []string
		errs, _ := body["errors"].([]any)
		for _, e := range errs {
			fields = append(fields, e.(map[string]any)["field"].(string))
		}
		sort.Strings(fields)
		if status != 422 || strings.Join(fields, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: %d, fields %v, want %v", tc.name, status, fields, tc.want)
		}
	}
}

// Each preset's minimal connection is valid as it is, with no field it
// does not need.
func TestPresetMinimalConnectionsAreValid(t *testing.T) {
	set, err := action.LoadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	for _, conn := range []string{
		`{"preset": "google"}`,
		`{"preset": "salesforce", "domain": "example.my.salesforce.com"}`,
		`{"preset": "okta", "domain": "example.okta.com", "clientId": "0oa1", "clientSecret": "s"}`,
		`{"preset": "okta", "domain": "example.okta.com", "authorizationServerId": "default", "clientId": "0oa1", "clientAuthMethod": "none"}`,
		`{"preset": "auth0", "domain": "example.us.auth0.com", "clientId": "abc", "clientSecret": "s"}`,
		`{"preset": "keycloak", "baseUrl": "https://sso.example.com", "realm": "staff", "clientId": "app", "clientSecret": "s"}`,
		`{"preset": "github", "clientId": "Iv1.abc", "clientSecret": "s"}`,
		`{"preset": "slack"}`,
		`{"preset": "nexus", "baseUrl": "https://nexus.example.com", "clientId": "c", "clientSecret": "s"}`,
		`{"dialect": "nexus", "baseUrl": "https://nexus.example.com", "clientId": "c", "clientSecret": "s"}`,
		`{"issuer": "https://auth.example.com", "clientId": "c", "clientSecret": "s"}`,
	} {
		if _, errs := set.Validate("connections/oauth.json", "connection", []byte(conn)); len(errs) > 0 {
			t.Errorf("%s: %v", conn, errs)
		}
	}
}
