package threecxemu_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
)

const tokensURL = "/xapi/v1/SecurityTokens"

func filterURL(expr string, extra ...string) string {
	q := url.Values{"$filter": {expr}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return tokensURL + "?" + q.Encode()
}

// seededTokens lists every refresh token once, to compute expectations independently of the
// emulator's filter code.
func seededTokens(t *testing.T, p *pbx) []map[string]any {
	t.Helper()
	_, all := p.list(tokensURL)
	if len(all) < 25 {
		t.Fatalf("only %d seeded refresh tokens", len(all))
	}
	return all
}

func idsWhere(all []map[string]any, keep func(map[string]any) bool) []int {
	var out []map[string]any
	for _, it := range all {
		if keep(it) {
			out = append(out, it)
		}
	}
	return ids(out)
}

func TestFilterOperators(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	all := seededTokens(t, p)
	id := func(it map[string]any) float64 { return it["Id"].(float64) }
	revoked := func(it map[string]any) bool { return it["Revoked"] != nil }
	created := func(it map[string]any) time.Time {
		tm, err := time.Parse(time.RFC3339, it["Created"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cutoff := p.clock.Now().Add(-20 * 24 * time.Hour)
	cases := []struct {
		expr string
		want func(map[string]any) bool
	}{
		{"Id eq 7", func(it map[string]any) bool { return id(it) == 7 }},
		{"Id ne 7", func(it map[string]any) bool { return id(it) != 7 }},
		{"Id lt 5", func(it map[string]any) bool { return id(it) < 5 }},
		{"Id le 5", func(it map[string]any) bool { return id(it) <= 5 }},
		{"Id gt 30", func(it map[string]any) bool { return id(it) > 30 }},
		{"Id ge 30", func(it map[string]any) bool { return id(it) >= 30 }},
		{"Revoked eq null", func(it map[string]any) bool { return !revoked(it) }},
		{"Revoked ne null", revoked},
		{"LoginType eq 'Sso' or LoginType eq 'Provisioning'", func(it map[string]any) bool {
			return it["LoginType"] == "Sso" || it["LoginType"] == "Provisioning"
		}},
		{"not (Revoked eq null) and Id lt 20", func(it map[string]any) bool { return revoked(it) && id(it) < 20 }},
		{"contains(DisplayName,'an')", func(it map[string]any) bool { return strings.Contains(it["DisplayName"].(string), "an") }},
		{"contains(tolower(DisplayName),'an') and startswith(Username,'11')", func(it map[string]any) bool {
			return strings.Contains(strings.ToLower(it["DisplayName"].(string)), "an") && strings.HasPrefix(it["Username"].(string), "11")
		}},
		{"endswith(Username,'5')", func(it map[string]any) bool { return strings.HasSuffix(it["Username"].(string), "5") }},
		{"Created lt " + cutoff.Format(time.RFC3339), func(it map[string]any) bool { return created(it).Before(cutoff) }},
		{"Created ge " + cutoff.Format(time.RFC3339) + " and SlidingExpiration eq true", func(it map[string]any) bool { return !created(it).Before(cutoff) }},
		{"LoginType eq Pbx.GrantType'Sso'", func(it map[string]any) bool { return it["LoginType"] == "Sso" }},
		{"RotateOnRefresh eq false", func(it map[string]any) bool { return it["RotateOnRefresh"] == false }},
		{"RotateOnRefresh", func(it map[string]any) bool { return it["RotateOnRefresh"] == true }},
		{"DisplayName eq 'Liam O''Connor'", func(it map[string]any) bool { return it["DisplayName"] == "Liam O'Connor" }},
		{"(Id lt 3 or Id gt 32) and Revoked eq null", func(it map[string]any) bool { return (id(it) < 3 || id(it) > 32) && !revoked(it) }},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			_, got := p.list(filterURL(c.expr))
			want := idsWhere(all, c.want)
			if len(want) == 0 || len(want) == len(all) {
				t.Fatalf("case does not discriminate: %d of %d match", len(want), len(all))
			}
			if !slices.Equal(ids(got), want) {
				t.Fatalf("got %v, want %v", ids(got), want)
			}
		})
	}
}

func TestBadFilterIsA400NamingTheProblem(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	for expr, want := range map[string]string{
		"Nope eq 1":                       "unknown property Nope",
		"Id eq 'seven'":                   "cannot compare Edm.Int32 with Edm.String",
		"Id eq":                           "ends where an operand was expected",
		"(Id eq 1":                        "missing ')'",
		"DisplayName eq 'open":            "unterminated string",
		"Id lt null":                      "cannot be applied to null",
		"Id":                              "not a condition",
		"frobnicate(DisplayName)":         "unknown function frobnicate",
		"Created gt 2024-13-45T00:00:00Z": "not a DateTimeOffset",
		"Id eq 1 Id eq 2":                 "unexpected",
	} {
		res := p.get(filterURL(expr))
		if res.status != 400 {
			t.Errorf("%q: status %d", expr, res.status)
			continue
		}
		msg, details := vendorError(t, res)
		if !strings.Contains(msg, want) {
			t.Errorf("%q: message %q should contain %q", expr, msg, want)
		}
		if len(details) != 1 || details[0]["target"] != "$filter" {
			t.Errorf("%q: details %v should name $filter", expr, details)
		}
	}
}

func TestCountSelectAndPagingExhaustTheSet(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	all := seededTokens(t, p)
	var seen []int
	for skip := 0; ; skip += 7 {
		env, page := p.list(tokensURL + "?$count=true&$top=7&$skip=" + itoa(skip) + "&$select=Id,Username&$orderby=Id")
		if env["@odata.count"] != float64(len(all)) {
			t.Fatalf("@odata.count = %v, want %d", env["@odata.count"], len(all))
		}
		if !strings.HasSuffix(env["@odata.context"].(string), "/xapi/v1/$metadata#SecurityTokens(Id,Username)") {
			t.Fatalf("@odata.context = %v", env["@odata.context"])
		}
		for _, it := range page {
			if len(it) != 2 || it["Username"] == nil {
				t.Fatalf("$select=Id,Username returned %v", it)
			}
		}
		seen = append(seen, ids(page)...)
		if len(page) < 7 {
			break
		}
	}
	if !slices.Equal(seen, ids(all)) {
		t.Fatalf("paging saw %v, want %v", seen, ids(all))
	}
	env, _ := p.list(tokensURL + "?$top=1")
	if _, ok := env["@odata.count"]; ok {
		t.Fatal("@odata.count present without $count=true")
	}
	_, none := p.list(tokensURL + "?$skip=1000")
	if len(none) != 0 {
		t.Fatalf("$skip past the end returned %d items", len(none))
	}
	env, none = p.list(tokensURL + "?$top=0&$count=true")
	if len(none) != 0 || env["@odata.count"] != float64(len(all)) {
		t.Fatalf("$top=0&$count=true: %d items, count %v", len(none), env["@odata.count"])
	}
}

func TestOrderBy(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	_, items := p.list(tokensURL + "?$orderby=" + url.QueryEscape("LoginType desc,Id asc"))
	for i := 1; i < len(items); i++ {
		a, b := items[i-1], items[i]
		la, lb := a["LoginType"].(string), b["LoginType"].(string)
		if la < lb || (la == lb && a["Id"].(float64) > b["Id"].(float64)) {
			t.Fatalf("not ordered by LoginType desc, Id asc at %d: %v then %v", i, a, b)
		}
	}
	_, items = p.list(tokensURL + "?$orderby=Revoked")
	if items[0]["Revoked"] != nil || items[len(items)-1]["Revoked"] == nil {
		t.Fatal("nulls should sort first in ascending order")
	}
	_, items = p.list(tokensURL + "?$orderby=" + url.QueryEscape("Created desc"))
	for i := 1; i < len(items); i++ {
		if items[i-1]["Created"].(string) < items[i]["Created"].(string) {
			t.Fatalf("Created desc broken at %d", i)
		}
	}
}

func TestSearch(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	_, items := p.list(tokensURL + "?$search=" + url.QueryEscape(`"Liam O'Connor"`))
	if len(items) != 1 || items[0]["DisplayName"] != "Liam O'Connor" {
		t.Fatalf("phrase search: %v", ids(items))
	}
	_, items = p.list(tokensURL + "?$search=" + url.QueryEscape(`android weber`))
	if len(items) == 0 {
		t.Fatal("Jonas Weber's Android session not found")
	}
	for _, it := range items {
		if it["DisplayName"] != "Jonas Weber" {
			t.Fatalf("terms are ANDed, got %v", it["DisplayName"])
		}
	}
	_, phrase := p.list(tokensURL + "?$search=" + url.QueryEscape(`"Hart Bruno"`))
	if len(phrase) != 0 {
		t.Fatalf("a quoted phrase must match as a whole, got %v", ids(phrase))
	}
	_, either := p.list(tokensURL + "?$search=" + url.QueryEscape(`Hart OR Kowalski`))
	if len(either) < 2 {
		t.Fatalf("OR search found %v", ids(either))
	}
	res := p.get(tokensURL + "?$search=" + url.QueryEscape(`"open`))
	if res.status != 400 {
		t.Fatalf("unterminated phrase: %d", res.status)
	}
}

func TestSelectExpandAndQueryErrors(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	_, items := p.list(tokensURL + "?$top=2&$expand=Client&$select=Id")
	client, ok := items[0]["Client"].(map[string]any)
	if !ok || client["ClientId"] == nil || len(items[0]) != 2 {
		t.Fatalf("$expand=Client with $select=Id: %v", items[0])
	}
	_, sps := p.list("/xapi/v1/ServicePrincipals?$expand=Peers&$filter=" + url.QueryEscape("XAPIEnabled eq true"))
	if len(sps) != 5 || sps[0]["Peers"] == nil {
		t.Fatalf("service principals with XAPI: %v", sps)
	}
	for target, option := range map[string]string{
		tokensURL + "?$select=Id,Nope":      "$select",
		tokensURL + "?$expand=Owner":        "$expand",
		tokensURL + "?$orderby=Nope":        "$orderby",
		tokensURL + "?$orderby=Id%20upward": "$orderby",
		tokensURL + "?$orderby=Scopes":      "$orderby",
	} {
		res := p.get(target)
		if res.status != 400 {
			t.Errorf("%s: status %d", target, res.status)
			continue
		}
		if _, details := vendorError(t, res); details[0]["target"] != option {
			t.Errorf("%s: target %v, want %s", target, details[0]["target"], option)
		}
	}
	// These break the spec's own parameter schemas, so they go past the guard.
	for target, option := range map[string]string{
		tokensURL + "?$top=-1":    "$top",
		tokensURL + "?$skip=x":    "$skip",
		tokensURL + "?$count=yes": "$count",
		tokensURL + "?$levels=2":  "$levels",
	} {
		res := p.raw("GET", target)
		if res.status != 400 {
			t.Errorf("%s: status %d", target, res.status)
			continue
		}
		if _, details := vendorError(t, res); details[0]["target"] != option {
			t.Errorf("%s: target %v, want %s", target, details[0]["target"], option)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
