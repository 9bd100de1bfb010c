package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRequireAPIKey(t *testing.T) {
	var seen string
	h := RequireAPIKey([]APIKey{{ID: "old", Key: "k-old-0123456789"}, {ID: "new", Key: "k-new-0123456789"}})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = CallerFrom(r.Context()) }))
	for _, c := range []struct {
		header string
		status int
		caller string
	}{
		{"Bearer k-old-0123456789", 200, "old"},
		{"bearer k-new-0123456789", 200, "new"},
		{"", 401, ""},
		{"Basic k-new-0123456789", 401, ""},
		{"Bearer k-new-012345678", 401, ""},
		{"Bearer k-new-0123456789x", 401, ""},
		{"Bearer ", 401, ""},
	} {
		seen = ""
		req := httptest.NewRequest(http.MethodGet, "/v1/actions", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status || seen != c.caller {
			t.Errorf("%q: status %d caller %q", c.header, rec.Code, seen)
		}
		if c.status == 401 && (rec.Header().Get("WWW-Authenticate") == "" || rec.Header().Get("Content-Type") != "application/problem+json") {
			t.Errorf("%q: 401 without challenge or problem", c.header)
		}
	}
}
