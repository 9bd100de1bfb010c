package appgateemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
)

const testDeviceID = "4c07bc67-57ea-42dd-b702-c2d6c45419fc"

type fixture struct {
	t     *testing.T
	emu   *Emulator
	srv   *httptest.Server
	clock *testclock.Clock
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	c := testclock.New()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	emu := New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &fixture{t: t, emu: emu, srv: srv, clock: c}
}

// call sends a request and decodes the JSON answer into a generic map.
func (f *fixture) call(method, path, accept, bearer string, body any) (int, map[string]any) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			f.t.Fatalf("%s %s: body is not JSON: %q", method, path, raw)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			f.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	return resp.StatusCode, out
}

func (f *fixture) login(username, password string) string {
	f.t.Helper()
	status, body := f.call("POST", "/admin/login", MediaType(23), "", map[string]any{
		"providerName": "local", "username": username, "password": password, "deviceId": testDeviceID,
	})
	if status != 200 {
		f.t.Fatalf("login: %d %v", status, body)
	}
	return body["token"].(string)
}

func (f *fixture) adminToken() string {
	c := f.emu.Credentials()
	return f.login(c.Username, c.Password)
}

func dnsOf(body map[string]any) []string {
	var out []string
	for _, d := range body["data"].([]any) {
		out = append(out, d.(map[string]any)["distinguishedName"].(string))
	}
	return out
}

func TestUnsupportedAcceptIsRefusedWithTheSupportedRange(t *testing.T) {
	f := newFixture(t, Options{MinVersion: 15, MaxVersion: 19})
	for _, accept := range []string{"", "application/json", MediaType(5), MediaType(20)} {
		status, body := f.call("POST", "/admin/login", accept, "", map[string]any{"providerName": "local", "deviceId": testDeviceID})
		if status != http.StatusNotAcceptable {
			t.Fatalf("Accept %q: status %d", accept, status)
		}
		if body["id"] != "not acceptable" || body["minSupportedVersion"] != 15.0 || body["maxSupportedVersion"] != 19.0 {
			t.Fatalf("Accept %q: body %v", accept, body)
		}
		if !strings.Contains(body["message"].(string), MediaType(19)) {
			t.Fatalf("message does not name the current version: %v", body["message"])
		}
	}
	if got := f.emu.Negotiations(); got != 4 {
		t.Fatalf("Negotiations() = %d, want 4", got)
	}
	if f.emu.Logins() != 0 || f.emu.FailedLogins() != 0 {
		t.Fatal("a refused version must not reach the credential check")
	}
	status, _ := f.call("GET", "/admin/on-boarded-devices", MediaType(23), "", nil)
	if status != http.StatusNotAcceptable {
		t.Fatalf("authenticated endpoints check the version first: %d", status)
	}
}

func TestLoginRefusesBadCredentialsWithReason(t *testing.T) {
	f := newFixture(t, Options{})
	cases := []map[string]any{
		{"providerName": "local", "username": "admin", "password": "wrong", "deviceId": testDeviceID},
		{"providerName": "local", "username": "nobody", "password": DemoPassword, "deviceId": testDeviceID},
		{"providerName": "ldap", "username": "admin", "password": DemoPassword, "deviceId": testDeviceID},
	}
	for _, body := range cases {
		status, got := f.call("POST", "/admin/login", MediaType(23), "", body)
		if status != 401 || got["id"] != "unauthorized" || got["reason"] == nil || got["message"] == nil {
			t.Fatalf("%v: %d %v", body, status, got)
		}
		if strings.Contains(got["reason"].(string), DemoPassword) {
			t.Fatal("the reason must not echo a password")
		}
	}
	if f.emu.FailedLogins() != 3 || f.emu.Logins() != 0 {
		t.Fatalf("counters: failed %d, ok %d", f.emu.FailedLogins(), f.emu.Logins())
	}
}

func TestLoginValidatesTheRequest(t *testing.T) {
	f := newFixture(t, Options{})
	status, body := f.call("POST", "/admin/login", MediaType(23), "", map[string]any{"username": "admin", "deviceId": "not-a-uuid"})
	if status != 422 {
		t.Fatalf("status %d", status)
	}
	var fields []string
	for _, e := range body["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	if !slices.Equal(fields, []string{"providerName", "deviceId"}) {
		t.Fatalf("fields %v", fields)
	}
	status, body = f.call("POST", "/admin/login", MediaType(23), "", "{not json")
	if status != 400 || body["id"] != "bad request" {
		t.Fatalf("malformed JSON: %d %v", status, body)
	}
}

func TestLoginIssuesAnExpiringTokenAndRegistersTheDevice(t *testing.T) {
	f := newFixture(t, Options{TokenLifetime: time.Hour})
	c := f.emu.Credentials()
	status, body := f.call("POST", "/admin/login", MediaType(21), "", map[string]any{
		"providerName": c.ProviderName, "username": c.Username, "password": c.Password, "deviceId": testDeviceID,
	})
	if status != 200 {
		t.Fatalf("%d %v", status, body)
	}
	expires, err := time.Parse(time.RFC3339Nano, body["expires"].(string))
	if err != nil || !expires.Equal(f.clock.Now().Add(time.Hour)) {
		t.Fatalf("expires %v (%v)", body["expires"], err)
	}
	tok := body["token"].(string)
	if status, _ := f.call("GET", "/admin/on-boarded-devices", MediaType(23), tok, nil); status != 200 {
		t.Fatalf("fresh token refused: %d", status)
	}
	wantDN := "CN=4c07bc6757ea42ddb702c2d6c45419fc,CN=admin,OU=local"
	if !slices.ContainsFunc(f.emu.Devices(), func(d Device) bool { return d.DistinguishedName == wantDN && d.DeviceType == "Admin" }) {
		t.Fatalf("the API client's device %s is not registered", wantDN)
	}
	f.clock.Advance(time.Hour)
	status, body = f.call("GET", "/admin/on-boarded-devices", MediaType(23), tok, nil)
	if status != 401 || body["id"] != "unauthorized" {
		t.Fatalf("expired token: %d %v", status, body)
	}
	if status, _ := f.call("GET", "/admin/on-boarded-devices", MediaType(23), "", nil); status != 401 {
		t.Fatalf("no token: %d", status)
	}
	if f.emu.Logins() != 1 {
		t.Fatalf("Logins() = %d", f.emu.Logins())
	}
}

func TestListDevicesQueriesFiltersOrdersAndPages(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.adminToken()
	total := len(f.emu.Devices())

	status, body := f.call("GET", "/admin/on-boarded-devices?query=alice", MediaType(23), tok, nil)
	if status != 200 || len(body["data"].([]any)) != 2 || body["totalCount"] != float64(total) || body["range"] != "0-2/2" {
		t.Fatalf("query: %d %v", status, body)
	}
	if q := body["queries"].([]any); len(q) != 1 || q[0] != "alice" {
		t.Fatalf("queries %v", q)
	}

	_, body = f.call("GET", "/admin/on-boarded-devices?providerName=azure&hostname=laptop", MediaType(23), tok, nil)
	if got := dnsOf(body); len(got) != 1 || !strings.Contains(got[0], "CN=erin,OU=azure-ad") {
		t.Fatalf("filterBy: %v", got)
	}
	if fb := body["filterBy"].([]any); len(fb) != 2 || fb[0].(map[string]any)["name"] != "hostname" {
		t.Fatalf("filterBy echo %v", fb)
	}

	_, body = f.call("GET", "/admin/on-boarded-devices?orderBy=username&descending=true&range=0-3", MediaType(23), tok, nil)
	var users []string
	for _, d := range body["data"].([]any) {
		users = append(users, d.(map[string]any)["username"].(string))
	}
	if !slices.Equal(users, []string{"svc-backup", "ivan", "heidi"}) || body["descending"] != true || body["orderBy"] != "username" {
		t.Fatalf("ordering %v %v", users, body)
	}
	if want := "0-3/" + itoa(total); body["range"] != want {
		t.Fatalf("range %v, want %s", body["range"], want)
	}
	_, body = f.call("GET", "/admin/on-boarded-devices?range=14-40", MediaType(23), tok, nil)
	if want := "14-" + itoa(total) + "/" + itoa(total); body["range"] != want || len(body["data"].([]any)) != total-14 {
		t.Fatalf("tail range %v", body["range"])
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// revoke posts a revocation as the administrator and returns the DNs it hit.
func (f *fixture) revoke(tok string, req map[string]any) []string {
	f.t.Helper()
	status, body := f.call("POST", "/admin/on-boarded-devices/revoke-tokens", MediaType(23), tok, req)
	if status != 200 {
		f.t.Fatalf("revoke %v: %d %v", req, status, body)
	}
	return dnsOf(body)
}

// expected selects seeded devices with a predicate, in DN order.
func (f *fixture) expected(keep func(Device) bool) []string {
	var out []string
	for _, d := range f.emu.Devices() {
		if keep(d) {
			out = append(out, d.DistinguishedName)
		}
	}
	return out
}

func TestRevokeTokensSelectsDevicesAsDocumented(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.adminToken()
	now := f.clock.Now()
	one := f.emu.Devices()[0].DistinguishedName

	cases := []struct {
		name string
		req  map[string]any
		keep func(Device) bool
	}{
		{"full DN hits one device", map[string]any{"distinguishedNameFilter": one},
			func(d Device) bool { return d.DistinguishedName == one }},
		{"provider", map[string]any{"distinguishedNameFilter": "OU=ldap"},
			func(d Device) bool { return d.ProviderName == "ldap" }},
		{"user", map[string]any{"distinguishedNameFilter": "CN=dave,OU=azure-ad"},
			func(d Device) bool { return d.Username == "dave" }},
		{"textual prefix", map[string]any{"distinguishedNameFilter": one[:12]},
			func(d Device) bool { return strings.HasPrefix(d.DistinguishedName, one[:12]) }},
		{"empty filter means active in the last 24 hours", map[string]any{"distinguishedNameFilter": ""},
			func(d Device) bool { return d.ActiveSince(now.Add(-24 * time.Hour)) }},
		{"specific DNs with an empty filter", map[string]any{"distinguishedNameFilter": "", "specificDistinguishedNames": []string{one, "CN=0,CN=ghost,OU=ldap"}},
			func(d Device) bool { return d.DistinguishedName == one }},
		{"specific DNs are ignored beside a filter", map[string]any{"distinguishedNameFilter": "OU=okta", "specificDistinguishedNames": []string{one}},
			func(d Device) bool { return d.ProviderName == "okta" }},
		{"site narrows", map[string]any{"distinguishedNameFilter": "OU=ldap", "siteId": SiteAtlanta},
			func(d Device) bool { return d.ProviderName == "ldap" && slices.Contains(d.Sites, SiteAtlanta) }},
		{"token type narrows to admin devices", map[string]any{"distinguishedNameFilter": "", "tokenType": "AdminClaims"},
			func(d Device) bool { return d.ActiveSince(now.Add(-24*time.Hour)) && d.DeviceType != "Client" }},
		{"token type narrows to client devices", map[string]any{"distinguishedNameFilter": "OU=ldap", "tokenType": "Entitlement"},
			func(d Device) bool { return d.ProviderName == "ldap" && d.DeviceType != "Admin" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := f.expected(c.keep)
			if len(want) == 0 {
				t.Fatal("the case selects nothing: it would prove nothing")
			}
			if got := f.revoke(tok, c.req); !slices.Equal(got, want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
		})
	}
	// The empty filter leaves out devices idle for days and the one never seen.
	all := f.expected(func(Device) bool { return true })
	active := f.expected(func(d Device) bool { return d.ActiveSince(now.Add(-24 * time.Hour)) })
	if len(active) >= len(all)-2 {
		t.Fatalf("the seed needs inactive devices: %d of %d active", len(active), len(all))
	}
	revs := f.emu.Revocations()
	if len(revs) != len(cases) || revs[0].DelayMinutes != 5 || revs[0].DevicesPerSecond != 2 {
		t.Fatalf("revocations %+v", revs[0])
	}
}

func TestRevokeTokensAnswersTheListEnvelope(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.adminToken()
	status, body := f.call("POST", "/admin/on-boarded-devices/revoke-tokens", MediaType(23), tok,
		map[string]any{"distinguishedNameFilter": "OU=okta", "revocationReason": "offboarding", "delayMinutes": 0, "devicesPerSecond": 10.5})
	if status != 200 {
		t.Fatal(status, body)
	}
	for _, k := range []string{"range", "orderBy", "descending", "queries", "totalCount", "filterBy", "data"} {
		if _, ok := body[k]; !ok {
			t.Fatalf("envelope lacks %s: %v", k, body)
		}
	}
	if body["range"] != "0-3/3" || body["totalCount"] != float64(len(f.emu.Devices())) {
		t.Fatalf("envelope %v", body)
	}
	rev := f.emu.Revocations()[0]
	if rev.RevocationReason != "offboarding" || rev.DelayMinutes != 0 || rev.DevicesPerSecond != 10.5 || len(rev.DistinguishedNames) != 3 {
		t.Fatalf("recorded %+v", rev)
	}
}

func TestRevokeTokensRejectsInvalidFieldsAllAtOnce(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.adminToken()
	status, body := f.call("POST", "/admin/on-boarded-devices/revoke-tokens", MediaType(23), tok,
		map[string]any{"siteId": "atlanta", "tokenType": "claims", "delayMinutes": -1, "devicesPerSecond": 0})
	if status != 422 || body["id"] != "unprocessable entity" {
		t.Fatalf("%d %v", status, body)
	}
	var fields []string
	for _, e := range body["errors"].([]any) {
		m := e.(map[string]any)
		fields = append(fields, m["field"].(string))
		if m["message"] == "" {
			t.Fatal("empty message")
		}
	}
	want := []string{"distinguishedNameFilter", "siteId", "tokenType", "delayMinutes", "devicesPerSecond"}
	if !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}
	status, _ = f.call("POST", "/admin/on-boarded-devices/revoke-tokens", MediaType(23), tok, `{"distinguishedNameFilter": 5}`)
	if status != 400 {
		t.Fatalf("wrong JSON type: %d", status)
	}
	if len(f.emu.Revocations()) != 0 {
		t.Fatal("a refused request must not revoke")
	}
}

func TestRevokeTokensNeedsTheRevokePrivilege(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login(ViewerUsername, DemoPassword)
	if status, _ := f.call("GET", "/admin/on-boarded-devices", MediaType(23), tok, nil); status != 200 {
		t.Fatalf("viewer cannot list: %d", status)
	}
	status, body := f.call("POST", "/admin/on-boarded-devices/revoke-tokens", MediaType(23), tok, map[string]any{"distinguishedNameFilter": "OU=okta"})
	if status != 403 || body["id"] != "forbidden" {
		t.Fatalf("%d %v", status, body)
	}
}

func TestRevokingTheAPIClientsDeviceEndsItsTokenAfterTheDelay(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.adminToken()
	f.revoke(tok, map[string]any{"distinguishedNameFilter": "CN=admin,OU=local", "delayMinutes": 5})
	f.clock.Advance(4 * time.Minute)
	if status, _ := f.call("GET", "/admin/on-boarded-devices", MediaType(23), tok, nil); status != 200 {
		t.Fatalf("within the delay: %d", status)
	}
	f.clock.Advance(time.Minute)
	if status, _ := f.call("GET", "/admin/on-boarded-devices", MediaType(23), tok, nil); status != 401 {
		t.Fatalf("after the delay: %d", status)
	}
	fresh := f.adminToken()
	if status, _ := f.call("GET", "/admin/on-boarded-devices", MediaType(23), fresh, nil); status != 200 {
		t.Fatalf("a token issued after the revocation: %d", status)
	}
}

func TestVersionEndpointTakesPlainJSON(t *testing.T) {
	f := newFixture(t, Options{MinVersion: 20, MaxVersion: 22})
	status, body := f.call("GET", "/admin/version", "application/json", "", nil)
	if status != 200 || body["peerVersion"] != 22.0 || body["lowestPeerVersionSupported"] != 20.0 {
		t.Fatalf("%d %v", status, body)
	}
}

func TestUnknownPathsAnswerJSON404(t *testing.T) {
	f := newFixture(t, Options{})
	status, body := f.call("GET", "/admin/nothing-here", MediaType(23), "", nil)
	if status != 404 || body["id"] != "not found" {
		t.Fatalf("%d %v", status, body)
	}
}

func TestMatchesFilter(t *testing.T) {
	dn := "CN=4c07bc6757ea42ddb702c2d6c45419fc,CN=user,OU=ldap"
	for filter, want := range map[string]bool{
		dn:                 true,
		"OU=ldap":          true,
		"ou=ldap":          true,
		"CN=user,OU=ldap":  true,
		"CN=4c07":          true,
		"OU=ld":            false,
		"CN=user,OU=local": false,
		"CN=use,OU=ldap":   false,
		"CN=user":          false,
	} {
		if got := MatchesFilter(dn, filter); got != want {
			t.Errorf("MatchesFilter(%q) = %v, want %v", filter, got, want)
		}
	}
	if !MatchesFilter(`CN=ab,CN=smith\, john,OU=ldap`, `CN=smith\, john,OU=ldap`) {
		t.Error("escaped commas belong to the value")
	}
}
