//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// appgateDevice is a registered device as the sidecar lists it.
type appgateDevice struct {
	DistinguishedName string  `json:"distinguishedName"`
	Username          string  `json:"username"`
	ProviderName      string  `json:"providerName"`
	LastSeenAt        *string `json:"lastSeenAt"`
}

// appgateDevices asks the sidecar (not n8n) which devices the demo
// controller has, so the tests know what each filter must select.
func appgateDevices() ([]appgateDevice, error) {
	body, _ := json.Marshal(map[string]any{"connection": env.connections["appgate"], "input": map[string]any{}})
	resp, err := http.Post(env.sidecarURL+"/v1/actions/appgate.listOnboardedDevices", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Data []appgateDevice `json:"data"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list devices: %s", resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out.Data, err
}

func appgateWorkflows() ([]workflow, error) {
	if _, ok := env.connections["appgate"]; !ok {
		return nil, nil
	}
	devices, err := appgateDevices()
	if err != nil {
		return nil, err
	}
	var bobs []any
	for _, d := range devices {
		if d.Username == "bob" {
			bobs = append(bobs, d.DistinguishedName)
		}
	}
	if len(bobs) < 2 {
		return nil, fmt.Errorf("the demo controller should have two devices of bob, has %v", bobs)
	}
	revoke := func(params map[string]any) map[string]any {
		p := map[string]any{"resource": "device", "operation": "revokeTokens"}
		for k, v := range params {
			p[k] = v
		}
		return p
	}
	return []workflow{
		chain("agList", tw("List Devices", appgateType, map[string]any{
			"resource": "device", "operation": "list",
			"options": map[string]any{"filterBy": `{"providerName": "ldap"}`, "orderBy": "lastSeenAt", "descending": true, "range": "0-50"},
		})),
		chain("agRevokeUser", tw("Revoke Alice", appgateType, revoke(map[string]any{
			"distinguishedNameFilter": "CN=alice,OU=ldap",
			"additionalFields":        map[string]any{"revocationReason": "e2e: laptop stolen", "tokenType": "Claims", "delayMinutes": 0},
		}))),
		chain("agRevokeList", tw("Revoke Bob's Devices", appgateType, revoke(map[string]any{
			"distinguishedNameFilter": "", "specificDistinguishedNames": bobs,
		}))),
		// An expression over data that came out empty, and one over a
		// field that is missing: both are refused before anything happens.
		chain("agEmptyRefused", append(items("dn", []any{""}), tw("Revoke Empty Filter", appgateType, revoke(map[string]any{
			"distinguishedNameFilter": "={{ $json.dn }}",
		})))...),
		chain("agMissingRefused", tw("Revoke Missing Filter", appgateType, revoke(map[string]any{
			"distinguishedNameFilter": "={{ $json.nobody }}",
		}))),
		chain("agEmptyConfirmed", tw("Revoke All Active", appgateType, revoke(map[string]any{
			"distinguishedNameFilter": "", "confirmRevokeAll": true,
		}))),
	}, nil
}

func skipWithoutAppgate(t *testing.T) {
	if _, ok := env.connections["appgate"]; !ok {
		t.Skip("this sidecar's demo has no Appgate emulator")
	}
}

func TestAppgateListFiltersAndSorts(t *testing.T) {
	skipWithoutAppgate(t)
	r := execute(t, "agList")
	mustSucceed(t, r)
	got := r.items(t, "List Devices")
	if len(got) == 0 {
		t.Fatal("no devices listed")
	}
	var last string
	for i, it := range got {
		if it.JSON["providerName"] != "ldap" {
			t.Errorf("item %d is not an ldap device: %v", i, it.JSON)
		}
		seen, _ := it.JSON["lastSeenAt"].(string)
		if i > 0 && seen > last {
			t.Errorf("not sorted by lastSeenAt descending: %s after %s", seen, last)
		}
		last = seen
	}
}

// revokedDevices reads the one item a revocation gives.
func revokedDevices(t *testing.T, r *run, node string) []string {
	t.Helper()
	got := r.items(t, node)
	if len(got) != 1 {
		t.Fatalf("%s gave %d items, want one naming the devices", node, len(got))
	}
	devices, _ := got[0].JSON["devices"].([]any)
	if n, _ := got[0].JSON["deviceCount"].(float64); int(n) != len(devices) {
		t.Errorf("deviceCount %v for %d devices", got[0].JSON["deviceCount"], len(devices))
	}
	var dns []string
	for _, d := range devices {
		dns = append(dns, fmt.Sprint(d.(map[string]any)["distinguishedName"]))
	}
	sort.Strings(dns)
	return dns
}

func TestAppgateRevokeOneUsersDevices(t *testing.T) {
	skipWithoutAppgate(t)
	r := execute(t, "agRevokeUser")
	mustSucceed(t, r)
	dns := revokedDevices(t, r, "Revoke Alice")
	if len(dns) != 2 {
		t.Fatalf("revoked %v, want alice's two devices", dns)
	}
	for _, dn := range dns {
		if !strings.HasSuffix(dn, ",CN=alice,OU=ldap") {
			t.Errorf("revoked %s, not a device of alice", dn)
		}
	}
}

func TestAppgateRevokeSpecificDevices(t *testing.T) {
	skipWithoutAppgate(t)
	r := execute(t, "agRevokeList")
	mustSucceed(t, r)
	dns := revokedDevices(t, r, "Revoke Bob's Devices")
	if len(dns) != 2 || !strings.HasSuffix(dns[0], ",CN=bob,OU=ldap") || !strings.HasSuffix(dns[1], ",CN=bob,OU=ldap") {
		t.Fatalf("revoked %v, want exactly bob's two devices", dns)
	}
}

func TestAppgateEmptyFilterFromAnExpressionIsRefused(t *testing.T) {
	skipWithoutAppgate(t)
	r := execute(t, "agEmptyRefused")
	if r.Status != "error" || r.Data.ResultData.Error == nil {
		t.Fatalf("status %s: an empty filter without confirmation must stop the flow", r.Status)
	}
	e := r.Data.ResultData.Error
	if !strings.Contains(e.Message+e.Description, "24 hours") || e.HTTPCode != "422" {
		t.Fatalf("error %q / %q (HTTP %s) should explain the every-active-device risk", e.Message, e.Description, e.HTTPCode)
	}
	// In the form's words: the labels, not the sidecar's field names.
	if !strings.HasPrefix(e.Message, "Distinguished Name Filter: ") || !strings.Contains(e.Message, `"Revoke Every Device Active in the Last 24 Hours"`) || !strings.Contains(e.Message, `(got "")`) {
		t.Errorf("message %q should name the fields as the form does and the value that failed", e.Message)
	}
	if strings.Contains(e.Message, "confirmRevokeAll") || strings.Contains(e.Message, "distinguishedNameFilter") {
		t.Errorf("message %q names the sidecar's fields instead of the form's", e.Message)
	}
	r = execute(t, "agMissingRefused")
	if e := r.Data.ResultData.Error; r.Status != "error" || e == nil || e.HTTPCode != "422" || !strings.HasPrefix(e.Message, "Distinguished Name Filter: ") {
		t.Fatalf("a filter expression over a missing field: status %s, error %+v; want a 422 naming the field by its label", r.Status, e)
	}
}

func TestAppgateEmptyFilterWithConfirmationRevokesRecentlyActiveDevices(t *testing.T) {
	skipWithoutAppgate(t)
	r := execute(t, "agEmptyConfirmed")
	mustSucceed(t, r)
	dns := revokedDevices(t, r, "Revoke All Active")
	devices, err := appgateDevices()
	if err != nil {
		t.Fatal(err)
	}
	recent := map[string]bool{}
	for _, d := range devices {
		if d.LastSeenAt != nil {
			if at, err := time.Parse(time.RFC3339, *d.LastSeenAt); err == nil && time.Since(at) < 24*time.Hour {
				recent[d.DistinguishedName] = true
			}
		}
	}
	if len(dns) == 0 {
		t.Fatal("nothing revoked")
	}
	for _, dn := range dns {
		if !recent[dn] {
			t.Errorf("revoked %s, which was not active in the last 24 hours", dn)
		}
	}
	if len(dns) < len(recent)-1 { // the sidecar's own admin device may appear between the two lists
		t.Errorf("revoked %d devices, %d were active in the last 24 hours", len(dns), len(recent))
	}
}
