package threecx

import (
	"encoding/json"
	"net/http"
	"testing"
	"unicode/utf8"
)

// FuzzAPIProblem: any answer a PBX (or a proxy in front of it) gives
// becomes a problem that encodes, has an error status, and keeps what the
// PBX said in bounded, valid text.
func FuzzAPIProblem(f *testing.F) {
	f.Add(404, "application/json", []byte(`{"error":{"code":"","message":"Not found","details":[{"code":"x","message":"Id","target":"Id"}]}}`))
	f.Add(400, "application/json", []byte(`{"error":{"code":"InvalidArgument","message":"bad","details":[]}}`))
	f.Add(502, "text/html", []byte(`<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>`))
	f.Add(503, "", []byte{})
	f.Add(429, "text/plain", []byte("slow down \xff\xfe"))
	f.Add(500, "application/json", []byte(`{"error": null}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 599 {
			status = 400 + (status%200+200)%200
		}
		p := apiProblem(status, http.Header{"Content-Type": {contentType}, "Retry-After": {"5"}}, body)
		if p.Status < 400 {
			t.Fatalf("status %d for an upstream %d", p.Status, status)
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("does not encode: %v", err)
		}
		if p.Upstream == nil || p.Upstream.Status != status {
			t.Fatal("lost the upstream status")
		}
		if !utf8.ValidString(p.Upstream.Message) && utf8.Valid(body) {
			t.Fatal("made valid text invalid")
		}
	})
}

// FuzzPropertyList: $select/$expand echo parsing never panics.
func FuzzPropertyList(f *testing.F) {
	f.Add([]byte(`"Id,Name"`))
	f.Add([]byte(`["Id", "Name"]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p propertyList
		_ = p.UnmarshalJSON(b)
	})
}
