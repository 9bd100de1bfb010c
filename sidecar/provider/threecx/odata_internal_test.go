package threecx

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestSearchPhraseQuotesSpaces(t *testing.T) {
	for in, want := range map[string]string{
		"alice":          "alice",
		"Ann Smith":      `"Ann Smith"`,
		`"already done"`: `"already done"`,
		`say "hi" there`: `"say \"hi\" there"`,
		"  padded ":      "padded",
	} {
		if got := searchPhrase(in); got != want {
			t.Errorf("searchPhrase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQueryEncoding(t *testing.T) {
	var o ListOptions
	if err := json.Unmarshal([]byte(`{"search": "Ann Smith", "filter": "Revoked eq null and contains(DisplayName,'a&b')", "count": true,
		"orderBy": "Created desc, DisplayName", "select": ["Id", " DisplayName "], "expand": "Client"}`), &o); err != nil {
		t.Fatal(err)
	}
	got := encodeQuery(o.query())
	want := "$count=true&$expand=Client&$filter=Revoked%20eq%20null%20and%20contains%28DisplayName%2C%27a%26b%27%29" +
		"&$orderby=Created%20desc%2CDisplayName&$search=%22Ann%20Smith%22&$select=Id%2CDisplayName"
	if got != want {
		t.Fatalf("query\n got %s\nwant %s", got, want)
	}
	back, err := url.ParseQuery(got)
	if err != nil || back.Get("$filter") != "Revoked eq null and contains(DisplayName,'a&b')" || back.Get("$orderby") != "Created desc,DisplayName" {
		t.Fatalf("does not decode back: %v %v", back, err)
	}
}

func TestExpiryUnits(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := func(v any) *oauth2.Token {
		return (&oauth2.Token{AccessToken: "x"}).WithExtra(map[string]any{"expires_in": v})
	}
	for _, c := range []struct {
		unit string
		in   any
		want time.Duration
	}{
		{"auto", float64(60), time.Hour},      // 3CX before 20.0.9: minutes
		{"auto", float64(3600), time.Hour},    // 20.0.9 and later: seconds
		{"seconds", float64(60), time.Minute}, // forced
		{"minutes", float64(600), 10 * time.Hour},
		{"auto", "3600", time.Hour},
	} {
		if got := expiry(tok(c.in), c.unit, func() time.Time { return now }).Sub(now); got != c.want {
			t.Errorf("%s %v: lifetime %v, want %v", c.unit, c.in, got, c.want)
		}
	}
}
