package providers_test

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

// Every number an action sends upstream has an upper bound in its schema:
// a walk over each input schema (refs bundled) finds none without.
func TestEveryInputNumberIsBounded(t *testing.T) {
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch n := v.(type) {
		case map[string]any:
			if ty, _ := n["type"].(string); ty == "integer" || ty == "number" {
				_, max := n["maximum"]
				_, xmax := n["exclusiveMaximum"]
				if !max && !xmax {
					t.Errorf("%s: a %s without a maximum", path, ty)
				}
			}
			for k, c := range n {
				walk(path+"/"+k, c)
			}
		case []any:
			for i, c := range n {
				walk(path+"/"+strconv.Itoa(i), c)
			}
		}
	}
	for _, d := range reg.Actions() {
		walk(d.ID, d.Input)
	}
	for _, p := range reg.ProviderIDs() {
		s, _ := reg.ConnectionSchema(p)
		walk("connections/"+p, s)
	}
}

// Out-of-range numbers are refused before anything is sent, each named.
func TestOutOfBoundsNumbersAreNamed(t *testing.T) {
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		action, input string
		fields        []string
	}{
		{"appgate.revokeDeviceTokens", `{"distinguishedNameFilter": "OU=ldap", "delayMinutes": 9223372036854775807, "devicesPerSecond": 1e9}`,
			[]string{"input.delayMinutes", "input.devicesPerSecond"}},
		{"appgate.revokeDeviceTokens", `{"distinguishedNameFilter": "OU=ldap", "delayMinutes": 10081}`, []string{"input.delayMinutes"}},
		{"threecx.listRefreshTokens", `{"top": 100001, "skip": 10000001, "returnAll": true, "limit": 100001}`,
			[]string{"input.limit", "input.skip", "input.top"}},
	} {
		conn := `{"baseUrl": "https://pbx.example", "clientId": "x", "clientSecret": "y"}`
		if strings.HasPrefix(c.action, "appgate.") {
			conn = `{"baseUrl": "https://controller.example:8443/admin", "username": "admin", "password": "p"}`
		}
		_, err := reg.Invoke(context.Background(), c.action, action.Envelope{Connection: json.RawMessage(conn), Input: json.RawMessage(c.input)})
		var p *action.Problem
		if !errors.As(err, &p) || p.Status != 422 {
			t.Fatalf("%s %s: %v", c.action, c.input, err)
		}
		var named []string
		for _, e := range p.Errors {
			named = append(named, e.Field)
		}
		sort.Strings(named)
		if strings.Join(named, ",") != strings.Join(c.fields, ",") {
			t.Errorf("%s %s: named %v, want %v", c.action, c.input, named, c.fields)
		}
	}
}
