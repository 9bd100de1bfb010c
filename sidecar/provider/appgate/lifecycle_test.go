package appgate_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/appgateemu"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

// clockedSidecar is the HTTP API with every provider on the test's clock.
func clockedSidecar(t *testing.T, now func() time.Time) *sidecar {
	t.Helper()
	reg, err := providers.Registry(action.Env{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	reg.CheckOutput = true
	h, err := httpapi.New(httpapi.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &sidecar{url: srv.URL}
}

func meta(t *testing.T, a answer) map[string]any {
	t.Helper()
	m, ok := a.body["meta"].(map[string]any)
	if !ok {
		t.Fatalf("no meta in %v", a.body)
	}
	return m
}

func TestDryRunListsTheDevicesAndRevokesNone(t *testing.T) {
	clk := testclock.New()
	ctl := startController(t, appgateemu.Options{Now: clk.Now})
	s := clockedSidecar(t, clk.Now)
	a := s.action(t, "appgate.revokeDeviceTokens", ctl.connection(), map[string]any{"distinguishedNameFilter": "OU=ldap", "dryRun": true})
	if a.status != http.StatusOK {
		t.Fatalf("dry run: %d %v", a.status, a.body)
	}
	want := selected(ctl.emu, func(d appgateemu.Device) bool { return d.ProviderName == "ldap" })
	got := a.dns()
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("dry run over OU=ldap listed %v, the ldap devices are %v", got, want)
	}
	if meta(t, a)["dryRun"] != true {
		t.Fatalf("meta %v does not say dryRun", a.body["meta"])
	}
	if n := len(ctl.emu.Revocations()); n != 0 {
		t.Fatalf("a dry run revoked (%d revocations)", n)
	}
	// The refusals of a real revocation hold for its preview too.
	if a := s.action(t, "appgate.revokeDeviceTokens", ctl.connection(), map[string]any{"distinguishedNameFilter": "", "dryRun": true}); a.status != http.StatusUnprocessableEntity {
		t.Fatalf("an unconfirmed empty filter in a dry run answered %d", a.status)
	}
}

// The preview must pick exactly the devices the controller then revokes,
// for every kind of selection; an empty filter means the devices active in
// the last 24 hours, which the preview reads from lastSeenAt.
func TestDryRunMatchesTheRevocation(t *testing.T) {
	seed := appgateemu.New(appgateemu.Options{}).Devices()
	specific := []string{seed[0].DistinguishedName, seed[len(seed)-1].DistinguishedName}
	for name, in := range map[string]map[string]any{
		"provider":       {"distinguishedNameFilter": "OU=ldap"},
		"user":           {"distinguishedNameFilter": "CN=alice,OU=ldap"},
		"one device":     {"distinguishedNameFilter": seed[1].DistinguishedName},
		"specific names": {"distinguishedNameFilter": "", "specificDistinguishedNames": specific},
		"active in 24 h": {"distinguishedNameFilter": "", "confirmRevokeAll": true},
	} {
		t.Run(name, func(t *testing.T) {
			clk := testclock.New()
			ctl := startController(t, appgateemu.Options{Now: clk.Now})
			s := clockedSidecar(t, clk.Now)
			in["dryRun"] = true
			preview := s.action(t, "appgate.revokeDeviceTokens", ctl.connection(), in)
			if preview.status != http.StatusOK {
				t.Fatalf("dry run: %d %v", preview.status, preview.body)
			}
			if name == "active in 24 h" {
				if c, _ := meta(t, preview)["caveats"].([]any); len(c) == 0 {
					t.Fatal("an empty-filter preview says nothing about the 24-hour window")
				}
			}
			delete(in, "dryRun")
			real := s.action(t, "appgate.revokeDeviceTokens", ctl.connection(), in)
			if real.status != http.StatusOK {
				t.Fatalf("revocation: %d %v", real.status, real.body)
			}
			got, want := preview.dns(), real.dns()
			slices.Sort(got)
			slices.Sort(want)
			if len(want) == 0 || len(want) == len(ctl.emu.Devices()) || !slices.Equal(got, want) {
				t.Fatalf("preview %v, revocation hit %v (of %d devices)", got, want, len(ctl.emu.Devices()))
			}
		})
	}
}

func TestVerifySaysTheAPIShowsNoTokenState(t *testing.T) {
	for _, lying := range []bool{false, true} {
		clk := testclock.New()
		ctl := startController(t, appgateemu.Options{Now: clk.Now})
		conn := ctl.connection()
		if lying {
			// A controller that answers 200 and the device list but revokes
			// nothing: the API gives no way to tell, so the answer must not
			// claim it was verified.
			lie := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/revoke-tokens") {
					w.Header().Set("Content-Type", "application/json")
					_ = json.NewEncoder(w).Encode(map[string]any{"range": "0-0/0", "totalCount": 0, "data": []any{}})
					return
				}
				ctl.emu.ServeHTTP(w, r)
			}))
			t.Cleanup(lie.Close)
			conn["baseUrl"] = lie.URL + "/admin"
		}
		s := clockedSidecar(t, clk.Now)
		a := s.action(t, "appgate.revokeDeviceTokens", conn, map[string]any{"distinguishedNameFilter": "CN=alice,OU=ldap", "verify": true})
		if a.status != http.StatusOK {
			t.Fatalf("lying=%v: %d %v", lying, a.status, a.body)
		}
		m := meta(t, a)
		v, _ := m["verification"].(map[string]any)
		if m["verified"] != false || v["status"] != "unverifiable" || !strings.Contains(v["detail"].(string), "shows no token state") {
			t.Fatalf("lying=%v: meta %v", lying, m)
		}
		if want := map[bool]int{false: 1, true: 0}[lying]; len(ctl.emu.Revocations()) != want {
			t.Fatalf("lying=%v: %d revocations, want %d", lying, len(ctl.emu.Revocations()), want)
		}
	}
}
