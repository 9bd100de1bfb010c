package faultsuite

import (
	"net/http"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/nexusemu"
)

func TestOAuthRevokeRetriedOnResetsAnd502(t *testing.T) {
	for name, f := range map[string]faults.Fault{
		"reset before the work": faults.Reset(),
		"reset after the work":  faults.ResetAfter(),
		"502 from a proxy":      faults.HTML(http.StatusBadGateway),
		"429":                   faults.Status(http.StatusTooManyRequests, "1"),
	} {
		w := newWorld(t)
		access, _ := w.nexus.IssuePair("MyClient")
		w.nexusInj.Add(faults.Rule{Path: nexusemu.RevokePath, Times: 1, Fault: f})
		a := w.call("oauth.revokeToken", w.nexusConn(), map[string]any{"token": access, "tokenTypeHint": "access_token"})
		if a.status != 200 || w.nexus.Active(access) || w.nexusInj.Requests("POST", nexusemu.RevokePath) != 2 {
			t.Errorf("%s: %d %s after %d requests", name, a.status, a.raw, w.nexusInj.Requests("POST", nexusemu.RevokePath))
		}
	}
}

// RFC 7009's 503 is the OAuth client's own business: the upstream client
// hands it back at once, so the two retry loops never multiply.
func TestOAuth503IsRetriedOnceOverNotTwice(t *testing.T) {
	w := newWorld(t)
	access, _ := w.nexus.IssuePair("MyClient")
	w.nexusInj.Add(faults.Rule{Path: nexusemu.RevokePath, Times: 1, Fault: faults.Status(http.StatusServiceUnavailable, "0")})
	a := w.call("oauth.revokeToken", w.nexusConn(), map[string]any{"token": access})
	if a.status != 200 || w.nexus.Active(access) {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if n := w.nexusInj.Requests("POST", nexusemu.RevokePath); n != 2 {
		t.Fatalf("%d requests for one 503", n)
	}
	if _, retries := w.recorded(); len(retries) != 0 {
		t.Fatalf("the upstream client retried the 503 itself: %+v", retries)
	}
}
