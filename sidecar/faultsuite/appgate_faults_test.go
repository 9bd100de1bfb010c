package faultsuite

import (
	"net/http"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
)

const agRevokePath = "/admin/on-boarded-devices/revoke-tokens"

var aliceLaptop = map[string]any{"distinguishedNameFilter": "CN=alice,OU=ldap", "revocationReason": "Laptop reported stolen"}

func TestAppgateExpiredTokenSignsInAgain(t *testing.T) {
	w := newWorld(t)
	conn := w.appgateConn()
	if a := w.call("appgate.listOnboardedDevices", conn, map[string]any{}); a.status != 200 {
		t.Fatal(a.raw)
	}
	// The controller's clock passes the token's expiry; the sidecar's
	// does not, so only the controller's 401 can tell it.
	w.agClock.Advance(48 * time.Hour)
	a := w.call("appgate.revokeDeviceTokens", conn, aliceLaptop)
	if a.status != 200 || len(w.ag.Revocations()) != 1 || w.ag.Logins() != 2 {
		t.Fatalf("%d %s; revocations %d, logins %d", a.status, a.raw, len(w.ag.Revocations()), w.ag.Logins())
	}
}

func TestAppgateRevokeRetried(t *testing.T) {
	for name, f := range map[string]faults.Fault{
		"503 with Retry-After": faults.Status(http.StatusServiceUnavailable, "2"),
		"502 from a proxy":     faults.HTML(http.StatusBadGateway),
		"reset after the work": faults.ResetAfter(),
		"truncated answer":     faults.Truncate(10),
	} {
		w := newWorld(t)
		w.agInj.Add(faults.Rule{Path: agRevokePath, Times: 1, Fault: f})
		a := w.call("appgate.revokeDeviceTokens", w.appgateConn(), aliceLaptop)
		if a.status != 200 || w.agInj.Requests("POST", agRevokePath) != 2 {
			t.Errorf("%s: %d %s after %d requests", name, a.status, a.raw, w.agInj.Requests("POST", agRevokePath))
		}
	}
}

func TestAppgateLoginRetriedOn429(t *testing.T) {
	w := newWorld(t)
	w.agInj.Add(faults.Rule{Path: "/admin/login", Method: http.MethodPost, Times: 2, Fault: faults.Status(http.StatusTooManyRequests, "1")})
	if a := w.call("appgate.revokeDeviceTokens", w.appgateConn(), aliceLaptop); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
}
