package nodedefs_test

// What the OAuth credential sends for each preset, evaluated as n8n
// evaluates it: the node's requestDefaults.body.connection expression over
// the credential's values. Each preset's form, filled in, must give a
// connection its schema accepts, and values left in fields the preset does
// not show (the editor keeps them when the preset changes) must not be sent.

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// What a user types into each shown text field.
var sampleValues = map[string]string{
	"revocationUrl":         "https://auth.example.com/oauth2/revoke",
	"issuer":                "https://auth.example.com",
	"baseUrl":               "https://sso.example.com",
	"domain":                "example.okta.com",
	"authorizationServerId": "default",
	"realm":                 "master",
	"clientId":              "tokenwarden",
	"clientSecret":          "s3cret",
}

const stale = "stale value of a hidden field"

func shownWith(p *property, values map[string]any) bool {
	if p.DisplayOptions == nil {
		return true
	}
	for key, allowed := range p.DisplayOptions.Show {
		ok := false
		for _, a := range allowed {
			if fmt.Sprint(a) == fmt.Sprint(values[key]) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// formValues fills the form as n8n would for one preset: defaults of the
// shown fields, a sample in each shown text field, and a stale value in
// every text field the preset hides.
func formValues(c *credential, preset string) map[string]any {
	values := map[string]any{"sidecarUrl": "http://127.0.0.1:8787", "connectionMode": "details", "dialect": preset}
	for range 3 { // shown fields depend on shown fields (secret on method)
		for _, p := range c.Properties {
			if _, set := values[p.Name]; set || !shownWith(p, values) {
				continue
			}
			if v, ok := sampleValues[p.Name]; ok {
				values[p.Name] = v
			} else if p.Default != nil {
				values[p.Name] = p.Default
			}
		}
	}
	for _, p := range c.Properties {
		if _, set := values[p.Name]; !set && p.Type == "string" {
			values[p.Name] = stale
		}
	}
	return values
}

// evaluate runs an n8n expression ("={{ ... }}") over $credentials in Node.js.
func evaluate(t *testing.T, expr string, creds map[string]any) map[string]any {
	t.Helper()
	in, _ := json.Marshal(map[string]any{"expr": expr, "creds": creds})
	js := `const {expr, creds} = JSON.parse(process.argv[1]);
const body = expr.replace(/^=\{\{/, '').replace(/\}\}$/, '');
process.stdout.write(JSON.stringify(new Function('$credentials', 'return (' + body + ')')(creds)));`
	out, err := exec.Command("node", "-e", js, string(in)).Output()
	if err != nil {
		t.Fatalf("evaluating the connection expression: %v", err)
	}
	var conn map[string]any
	if err := json.Unmarshal(out, &conn); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return conn
}

func TestOAuthPresetsSendOnlyWhatTheyShow(t *testing.T) {
	pack := loadPack(t)
	schemas := loadSchemas(t)
	cred := pack.credentials["tokenwardenOAuthRevocationApi"]
	n := pack.nodes["OAuth2TokenRevocation"]
	expr, _ := n.RequestDefaults.Body["connection"].(string)
	var presets []choice
	for _, p := range cred.Properties {
		if p.Name == "dialect" {
			presets = p.choices
		}
	}
	if len(presets) != 9 || expr == "" {
		t.Fatalf("want 9 presets and a connection expression, have %d and %q", len(presets), expr)
	}
	for _, c := range presets {
		preset := fmt.Sprint(c.Value)
		t.Run(preset, func(t *testing.T) {
			conn := evaluate(t, expr, formValues(cred, preset))
			if conn["preset"] != preset || conn["dialect"] != nil {
				t.Errorf("sends preset %v and dialect %v, want preset %s only", conn["preset"], conn["dialect"], preset)
			}
			raw, _ := json.Marshal(conn)
			if strings.Contains(string(raw), stale) {
				t.Errorf("sends a field the %s form hides: %s", preset, raw)
			}
			var v any
			_ = json.Unmarshal(raw, &v)
			if err := schemas.connections["oauth"].Validate(v); err != nil {
				t.Errorf("the filled-in %s form gives a connection the schema refuses: %s\n%v", preset, raw, err)
			}
		})
	}
	// A credential saved before presets: dialect nexus is the nexus preset.
	saved := map[string]any{"connectionMode": "details", "dialect": "nexus", "baseUrl": "https://nexus.example.com",
		"revocationUrl": "", "clientId": "app", "clientSecret": "s", "clientAuthMethod": "client_secret_post", "ignoreSslIssues": false}
	conn := evaluate(t, expr, saved)
	want := `{"preset":"nexus","baseUrl":"https://nexus.example.com","clientId":"app","clientSecret":"s","clientAuthMethod":"client_secret_post","tls":{"allowUnauthorizedCerts":false}}`
	got, _ := json.Marshal(conn)
	var a, b any
	_ = json.Unmarshal(got, &a)
	_ = json.Unmarshal([]byte(want), &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("a credential saved with dialect nexus sends %s, want %s", got, want)
	}
}
