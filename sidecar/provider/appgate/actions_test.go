package appgate_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/appgateemu"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/specguard"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

// sidecar is the real HTTP API with every provider registered.
type sidecar struct {
	url string
	// logs holds every log line: the sidecar's and the provider's, which
	// logs through slog's default logger.
	logs *testlog.Buffer
}

func startSidecar(t *testing.T) *sidecar {
	t.Helper()
	logs := &testlog.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	previous := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(previous) })
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	reg.CheckOutput = true
	h, err := httpapi.New(httpapi.Options{Registry: reg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &sidecar{url: srv.URL, logs: logs}
}

// controller is an emulated controller, seen through Appgate's OpenAPI
// when the vendor files are beside the repository.
type controller struct {
	emu *appgateemu.Emulator
	url string
}

func startController(t *testing.T, opts appgateemu.Options) *controller {
	t.Helper()
	emu := appgateemu.New(opts)
	var h http.Handler = emu
	if path, err := specguard.VendorSpecPath("appgate-sdp-api-v23", "bundled.yaml"); err != nil {
		t.Logf("not checking traffic against Appgate's OpenAPI: %v", err)
	} else if g, err := specguard.Load(path, "/admin", specguard.TolerateInvalidSpec()); err != nil {
		t.Fatal(err)
	} else {
		h = g.Wrap(emu)
		t.Cleanup(func() {
			for _, v := range g.Violations() {
				t.Errorf("deviation from Appgate's OpenAPI: %s", v)
			}
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &controller{emu: emu, url: srv.URL + "/admin"}
}

func (c *controller) connection() map[string]any {
	cred := c.emu.Credentials()
	return map[string]any{"baseUrl": c.url, "username": cred.Username, "password": cred.Password}
}

type answer struct {
	status int
	body   map[string]any
}

func (a answer) problemType() string {
	s, _ := a.body["type"].(string)
	return strings.TrimPrefix(s, action.ProblemBase)
}

// dns lists the distinguished names in data, in order.
func (a answer) dns() []string {
	var out []string
	data, _ := a.body["data"].([]any)
	for _, d := range data {
		out = append(out, d.(map[string]any)["distinguishedName"].(string))
	}
	return out
}

func (s *sidecar) post(t *testing.T, path string, body any) answer {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: not JSON: %s", path, raw)
	}
	return answer{resp.StatusCode, out}
}

func (s *sidecar) action(t *testing.T, id string, conn map[string]any, input any) answer {
	t.Helper()
	return s.post(t, "/v1/actions/"+id, map[string]any{"connection": conn, "input": input})
}

// selected lists, in DN order, the devices a predicate keeps.
func selected(emu *appgateemu.Emulator, keep func(appgateemu.Device) bool) []string {
	var out []string
	for _, d := range emu.Devices() {
		if keep(d) {
			out = append(out, d.DistinguishedName)
		}
	}
	return out
}

func TestRevokeByUserByProviderAndBySpecificNames(t *testing.T) {
	s, ctl := startSidecar(t), startController(t, appgateemu.Options{})
	conn := ctl.connection()
	specific := selected(ctl.emu, func(d appgateemu.Device) bool { return d.Username == "bob" || d.Username == "grace" })

	cases := []struct {
		name  string
		input map[string]any
		keep  func(appgateemu.Device) bool
	}{
		{"one user's devices by DN", map[string]any{"distinguishedNameFilter": "CN=alice,OU=ldap"},
			func(d appgateemu.Device) bool { return d.Username == "alice" && d.ProviderName == "ldap" }},
		{"one provider", map[string]any{"distinguishedNameFilter": "OU=azure-ad"},
			func(d appgateemu.Device) bool { return d.ProviderName == "azure-ad" }},
		{"a list of specific DNs", map[string]any{"distinguishedNameFilter": "", "specificDistinguishedNames": specific},
			func(d appgateemu.Device) bool { return slices.Contains(specific, d.DistinguishedName) }},
		{"one device", map[string]any{"distinguishedNameFilter": specific[0]},
			func(d appgateemu.Device) bool { return d.DistinguishedName == specific[0] }},
	}
	for i, c := range cases {
		want := selected(ctl.emu, c.keep)
		a := s.action(t, "appgate.revokeDeviceTokens", conn, c.input)
		if a.status != 200 {
			t.Fatalf("%s: %d %v", c.name, a.status, a.body)
		}
		if got := a.dns(); len(want) == 0 || !slices.Equal(got, want) {
			t.Fatalf("%s: answered %v, want %v", c.name, got, want)
		}
		if rev := ctl.emu.Revocations()[i]; !slices.Equal(rev.DistinguishedNames, want) {
			t.Fatalf("%s: controller revoked %v, want %v", c.name, rev.DistinguishedNames, want)
		}
		meta := a.body["meta"].(map[string]any)
		if meta["range"] != "0-"+itoa(len(want))+"/"+itoa(len(want)) || meta["totalCount"] != float64(len(ctl.emu.Devices())) {
			t.Fatalf("%s: meta %v", c.name, meta)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestEmptyFilterNeedsConfirmationAndThenHitsOnlyRecentlyActiveDevices(t *testing.T) {
	s, ctl := startSidecar(t), startController(t, appgateemu.Options{})
	conn := ctl.connection()

	a := s.action(t, "appgate.revokeDeviceTokens", conn, map[string]any{"distinguishedNameFilter": ""})
	if a.status != 422 || a.problemType() != "invalid-input" || !strings.Contains(a.body["detail"].(string), "every device active in the last 24 hours") {
		t.Fatalf("%d %v", a.status, a.body)
	}
	errs := a.body["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["field"] != "input.distinguishedNameFilter" ||
		!strings.Contains(errs[0].(map[string]any)["message"].(string), "confirmRevokeAll") {
		t.Fatalf("errors %v", errs)
	}
	if n := len(ctl.emu.Revocations()); n != 0 {
		t.Fatalf("a refused revocation reached the controller (%d)", n)
	}

	a = s.action(t, "appgate.revokeDeviceTokens", conn, map[string]any{"distinguishedNameFilter": "", "confirmRevokeAll": true})
	if a.status != 200 {
		t.Fatalf("%d %v", a.status, a.body)
	}
	since := ctl.emu.Now().Add(-24 * time.Hour)
	want := selected(ctl.emu, func(d appgateemu.Device) bool { return d.ActiveSince(since) })
	idle := selected(ctl.emu, func(d appgateemu.Device) bool { return !d.ActiveSince(since) })
	if got := a.dns(); !slices.Equal(got, want) || len(idle) < 3 {
		t.Fatalf("answered %v\nwant only the active %v (idle: %v)", got, want, idle)
	}
}

func TestInputIsNormalisedAndDefaulted(t *testing.T) {
	s, ctl := startSidecar(t), startController(t, appgateemu.Options{})
	a := s.action(t, "appgate.revokeDeviceTokens", ctl.connection(),
		map[string]any{"distinguishedNameFilter": "OU=ldap", "tokenType": "aDmInClAiMs", "siteId": appgateemu.SiteStockholm})
	if a.status != 200 {
		t.Fatalf("%d %v", a.status, a.body)
	}
	rev := ctl.emu.Revocations()[0]
	if rev.TokenType != "AdminClaims" || rev.DelayMinutes != 5 || rev.DevicesPerSecond != 2 || rev.SiteID != appgateemu.SiteStockholm {
		t.Fatalf("controller received %+v", rev)
	}
	if got := a.dns(); len(got) != 1 || !strings.Contains(got[0], "CN=carol,OU=ldap") {
		t.Fatalf("site and token type narrowing: %v", got)
	}
}

func TestBadInputNamesEveryFieldBeforeAnythingIsSent(t *testing.T) {
	s, ctl := startSidecar(t), startController(t, appgateemu.Options{})
	conn := map[string]any{"baseUrl": ctl.url, "username": "admin", "deviceId": "not-a-uuid", "apiVersion": 19}
	a := s.action(t, "appgate.revokeDeviceTokens", conn, map[string]any{
		"tokenType": "everything", "siteId": "atlanta", "delayMinutes": -5, "devicesPerSecond": 0,
	})
	var fields []string
	for _, e := range a.body["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	slices.Sort(fields)
	want := []string{"connection.apiVersion", "connection.deviceId", "connection.password",
		"input.delayMinutes", "input.devicesPerSecond", "input.distinguishedNameFilter", "input.siteId", "input.tokenType"}
	if a.status != 422 || !slices.Equal(fields, want) {
		t.Fatalf("%d fields %v\nwant %v", a.status, fields, want)
	}
	a = s.action(t, "appgate.revokeDeviceTokens", ctl.connection(), map[string]any{
		"distinguishedNameFilter": "OU=ldap", "specificDistinguishedNames": []string{"CN=x,CN=y,OU=ldap"},
	})
	if a.status != 422 || !strings.Contains(a.body["detail"].(string), "silently ignore") {
		t.Fatalf("%d %v", a.status, a.body)
	}
	for _, filter := range []string{"CN=", "CN=,OU=ldap", "CN=alice,OU= "} {
		a = s.action(t, "appgate.revokeDeviceTokens", ctl.connection(), map[string]any{"distinguishedNameFilter": filter})
		if a.status != 422 || !strings.Contains(a.body["detail"].(string), "empty component") {
			t.Fatalf("%q: %d %v", filter, a.status, a.body)
		}
	}
	if ctl.emu.Logins()+ctl.emu.Negotiations()+len(ctl.emu.Revocations()) != 0 {
		t.Fatal("invalid input reached the controller")
	}
}

func TestFailuresAreDistinctProblemsAndNoSecretIsLogged(t *testing.T) {
	s, ctl := startSidecar(t), startController(t, appgateemu.Options{})
	old := startController(t, appgateemu.Options{MinVersion: 14, MaxVersion: 19})
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	input := map[string]any{"distinguishedNameFilter": "OU=okta"}

	wrong := ctl.connection()
	wrong["password"] = "Wrong-Password-7731"
	a := s.action(t, "appgate.revokeDeviceTokens", wrong, input)
	up, _ := a.body["upstream"].(map[string]any)
	if a.status != 502 || a.problemType() != "upstream-auth-failed" || up["status"] != 401.0 ||
		!strings.Contains(up["message"].(string), "Invalid username or password") {
		t.Fatalf("wrong password: %d %v", a.status, a.body)
	}

	unreachable := ctl.connection()
	unreachable["baseUrl"] = gone.URL + "/admin"
	a = s.action(t, "appgate.revokeDeviceTokens", unreachable, input)
	if a.status != 502 || a.problemType() != "upstream-unreachable" || !strings.Contains(a.body["detail"].(string), gone.URL) {
		t.Fatalf("unreachable: %d %v", a.status, a.body)
	}

	a = s.action(t, "appgate.revokeDeviceTokens", old.connection(), input)
	if a.status != 502 || a.problemType() != "upstream-unsupported-version" || !strings.Contains(a.body["detail"].(string), "v14 to v19") {
		t.Fatalf("old controller: %d %v", a.status, a.body)
	}

	// A working call, so a real token exists that must not be logged either.
	if a = s.action(t, "appgate.listOnboardedDevices", ctl.connection(), map[string]any{}); a.status != 200 {
		t.Fatalf("%d %v", a.status, a.body)
	}
	logs := s.logs.String()
	for _, secret := range []string{"Wrong-Password-7731", appgateemu.DemoPassword} {
		if strings.Contains(logs, secret) {
			t.Fatalf("a password reached the log")
		}
	}
	for _, tok := range ctl.emu.IssuedTokens() {
		if strings.Contains(logs, tok) {
			t.Fatalf("a token reached the log")
		}
	}
	if !strings.Contains(logs, "appgate sign-in") {
		t.Fatal("the log capture saw no sign-in: the check above proves nothing")
	}
}

func TestOneSignInServes200ConcurrentActionsAndVersionIsNegotiatedOncePerController(t *testing.T) {
	s := startSidecar(t)
	ctls := []*controller{startController(t, appgateemu.Options{}), startController(t, appgateemu.Options{MinVersion: 20, MaxVersion: 21})}
	var wg sync.WaitGroup
	errs := make(chan string, 400)
	for i := range 400 {
		ctl := ctls[i%2]
		wg.Go(func() {
			var a answer
			if i%4 < 2 {
				a = s.action(t, "appgate.listOnboardedDevices", ctl.connection(), map[string]any{"query": "alice"})
			} else {
				a = s.action(t, "appgate.revokeDeviceTokens", ctl.connection(), map[string]any{"distinguishedNameFilter": "CN=alice,OU=ldap"})
			}
			if a.status != 200 {
				errs <- a.problemType()
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("an action failed: %s", e)
	}
	for i, ctl := range ctls {
		if ctl.emu.Logins() != 1 || ctl.emu.Negotiations() != 1 || len(ctl.emu.Revocations()) != 100 {
			t.Fatalf("controller %d: %d sign-ins, %d negotiations, %d revocations for 200 actions",
				i, ctl.emu.Logins(), ctl.emu.Negotiations(), len(ctl.emu.Revocations()))
		}
	}
	// A second connection (another device id) to a known controller signs in
	// for itself but does not negotiate again.
	other := ctls[0].connection()
	other["deviceId"] = "0b6f1f8e-4a47-4d5e-9a52-3f0c0d1e2a3b"
	if a := s.action(t, "appgate.listOnboardedDevices", other, map[string]any{}); a.status != 200 {
		t.Fatalf("%d %v", a.status, a.body)
	}
	if ctls[0].emu.Logins() != 2 || ctls[0].emu.Negotiations() != 1 {
		t.Fatalf("second connection: %d sign-ins, %d negotiations", ctls[0].emu.Logins(), ctls[0].emu.Negotiations())
	}
}

func TestListPreviewsWhatAFilterWouldHit(t *testing.T) {
	s, ctl := startSidecar(t), startController(t, appgateemu.Options{})
	a := s.action(t, "appgate.listOnboardedDevices", ctl.connection(), map[string]any{
		"filterBy": map[string]string{"providerName": "ldap"}, "orderBy": "hostname", "descending": true, "range": "0-3",
	})
	if a.status != 200 {
		t.Fatalf("%d %v", a.status, a.body)
	}
	meta := a.body["meta"].(map[string]any)
	if got := a.dns(); len(got) != 3 || meta["range"] != "0-3/5" || meta["orderBy"] != "hostname" || meta["descending"] != true {
		t.Fatalf("%v %v", got, meta)
	}
	a = s.action(t, "appgate.listOnboardedDevices", ctl.connection(), map[string]any{"filterBy": map[string]string{"password": "x"}, "range": "10"})
	if a.status != 422 || len(a.body["errors"].([]any)) != 2 {
		t.Fatalf("%d %v", a.status, a.body)
	}
}

func TestConnectionTestReallySignsIn(t *testing.T) {
	s, ctl := startSidecar(t), startController(t, appgateemu.Options{})
	a := s.post(t, "/v1/connections/appgate/test", map[string]any{"connection": ctl.connection()})
	if a.status != 200 || ctl.emu.Logins() != 1 {
		t.Fatalf("%d %v, %d sign-ins", a.status, a.body, ctl.emu.Logins())
	}
	wrong := ctl.connection()
	wrong["password"] = "nope-nope"
	if a = s.post(t, "/v1/connections/appgate/test", map[string]any{"connection": wrong}); a.status != 502 || a.problemType() != "upstream-auth-failed" {
		t.Fatalf("%d %v", a.status, a.body)
	}
	token := map[string]any{"baseUrl": ctl.url, "token": "not-a-real-token"}
	if a = s.post(t, "/v1/connections/appgate/test", map[string]any{"connection": token}); a.status != 502 || a.problemType() != "upstream-auth-failed" {
		t.Fatalf("bearer token: %d %v", a.status, a.body)
	}
}
