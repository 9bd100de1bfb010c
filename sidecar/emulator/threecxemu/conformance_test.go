package threecxemu_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
)

// TestConformsToVendorSpec drives every implemented operation, success and error answers alike,
// through specguard on 3CX's swagger.yaml. Other tests use the guard too when the file is there;
// this one insists on it, so a missing file shows up as a skip with the reason.
func TestConformsToVendorSpec(t *testing.T) {
	g := loadGuard(t, true)
	emu := threecxemu.New(threecxemu.Options{})
	h := g.Wrap(emu)

	id, secret := emu.Credentials()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	req := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tokenRes := serve(h, req)
	token := tokenRes.json(t)["access_token"].(string)

	script := []struct {
		method, target string
		status         int
	}{
		{"GET", "/xapi/v1/SecurityTokens", 200},
		{"GET", "/xapi/v1/SecurityTokens?$count=true&$top=5&$skip=3&$orderby=Created%20desc,Id", 200},
		{"GET", "/xapi/v1/SecurityTokens?$select=Id,DisplayName,Revoked&$filter=" + url.QueryEscape("Revoked eq null and contains(DisplayName,'a')"), 200},
		{"GET", "/xapi/v1/SecurityTokens?$expand=Client&$search=" + url.QueryEscape(`"Amelia Hart"`), 200},
		{"GET", "/xapi/v1/MyTokens?$count=true", 200},
		{"GET", "/xapi/v1/MyTokens?$select=Id,Scopes&$expand=Client", 200},
		{"GET", "/xapi/v1/ServicePrincipals?$count=true&$orderby=Number", 200},
		{"GET", "/xapi/v1/ServicePrincipals?$select=Id,Number,XAPIEnabled&$expand=Groups,Peers", 200},
		{"GET", "/xapi/v1/ServicePrincipals(31)", 200},
		{"GET", "/xapi/v1/ServicePrincipals(31)?$select=Number,LastUsed", 200},
		{"POST", "/xapi/v1/SecurityTokens(2)/Pbx.RevokeToken", 204},
		{"POST", "/xapi/v1/SecurityTokens(2)/Pbx.RevokeToken", 204},
		{"POST", "/xapi/v1/MyTokens(32)/Pbx.RevokeToken", 204},
		{"POST", "/xapi/v1/ServicePrincipals(33)/Pbx.GenerateAppToken", 200},
		{"GET", "/xapi/v1/SecurityTokens?$filter=" + url.QueryEscape("Id eq 'x'"), 400},
		{"GET", "/xapi/v1/SecurityTokens?$select=Nope", 400},
		{"GET", "/xapi/v1/SecurityTokens?$expand=Owner", 400},
		{"POST", "/xapi/v1/SecurityTokens(4040)/Pbx.RevokeToken", 404},
		{"POST", "/xapi/v1/MyTokens(1)/Pbx.RevokeToken", 404},
		{"POST", "/xapi/v1/ServicePrincipals(4040)/Pbx.GenerateAppToken", 404},
		{"GET", "/xapi/v1/ServicePrincipals(4040)", 404},
	}
	for _, s := range script {
		req := httptest.NewRequest(s.method, s.target, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if res := serve(h, req); res.status != s.status {
			t.Errorf("%s %s: %d, want %d: %s", s.method, s.target, res.status, s.status, res.body)
		}
	}
	unauth := httptest.NewRequest("GET", "/xapi/v1/SecurityTokens", nil)
	if res := serve(h, unauth); res.status != http.StatusUnauthorized {
		t.Errorf("no token: %d", res.status)
	}
	for _, v := range g.Violations() {
		t.Errorf("vendor spec violation: %s", v)
	}
}

// TestGuardCatchesDrift proves the guard is not a rubber stamp for this spec: an answer with
// a wrongly typed field is reported.
func TestGuardCatchesDrift(t *testing.T) {
	g := loadGuard(t, true)
	drifted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[{"Id":"1","Revoked":false}]}`))
	})
	serve(g.Wrap(drifted), httptest.NewRequest("GET", "/xapi/v1/SecurityTokens", nil))
	if len(g.Violations()) == 0 {
		t.Fatal("a RefreshToken with a string Id and boolean Revoked passed the guard")
	}
}

// TestConcurrentTraffic mixes reads, revocations, key generation and sign-ins; run with -race.
func TestConcurrentTraffic(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	p.signIn()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			var res response
			switch i % 4 {
			case 0:
				res = p.get(tokensURL + "?$count=true&$filter=" + url.QueryEscape("Revoked eq null") + "&$orderby=Created%20desc&$top=10")
			case 1:
				res = p.do(http.MethodPost, "/xapi/v1/SecurityTokens("+itoa(1+i%30)+")/Pbx.RevokeToken")
			case 2:
				res = p.do(http.MethodPost, "/xapi/v1/ServicePrincipals(34)/Pbx.GenerateAppToken")
			default:
				res = p.get("/xapi/v1/ServicePrincipals?$select=Id,LastUsed")
			}
			if res.status >= 300 {
				t.Errorf("request %d: %d %s", i, res.status, res.body)
			}
		})
	}
	wg.Wait()
	_, revoked := p.list(tokensURL + "?$filter=" + url.QueryEscape("ReasonRevoked eq 'Manual'"))
	if len(revoked) < 10 {
		t.Fatalf("only %d tokens revoked manually after 10 concurrent revocations", len(revoked))
	}
}
