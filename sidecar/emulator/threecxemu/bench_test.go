package threecxemu_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
)

func benchPBX(b *testing.B) (*threecxemu.Emulator, string) {
	emu := threecxemu.New(threecxemu.Options{})
	id, secret := emu.Credentials()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	req := httptest.NewRequest(http.MethodPost, "/connect/token", nil)
	req.PostForm = form
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("sign-in %d", rec.Code)
	}
	return emu, extractToken(rec.Body.String())
}

func extractToken(body string) string {
	_, rest, _ := strings.Cut(body, `"access_token":"`)
	token, _, _ := strings.Cut(rest, `"`)
	return token
}

func benchmarkRequest(b *testing.B, method, target string, want int) {
	emu, token := benchPBX(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(method, target, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		for pb.Next() {
			rec := httptest.NewRecorder()
			emu.ServeHTTP(rec, req)
			if rec.Code != want {
				b.Fatalf("status %d, want %d", rec.Code, want)
			}
		}
	})
}

func BenchmarkListSecurityTokens(b *testing.B) {
	benchmarkRequest(b, http.MethodGet, "/xapi/v1/SecurityTokens", http.StatusOK)
}

func BenchmarkListMyTokensWithQuery(b *testing.B) {
	benchmarkRequest(b, http.MethodGet, "/xapi/v1/MyTokens?$count=true&$top=2&$select=Id,Revoked&$orderby=Created%20desc&$filter="+
		url.QueryEscape("Revoked eq null and contains(DisplayName,'Token')"), http.StatusOK)
}

// After the first call the token is already revoked: this measures the idempotent path.
func BenchmarkRevokeSecurityToken(b *testing.B) {
	benchmarkRequest(b, http.MethodPost, "/xapi/v1/SecurityTokens(7)/Pbx.RevokeToken", http.StatusNoContent)
}
