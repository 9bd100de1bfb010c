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

// RFC 7009's 503 ("the token still exists, try again") is retried by the
// one retry policy every call follows, not by a loop of the OAuth client's
// own on top of it, so the retries never multiply.
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
	if _, retries := w.recorded(); len(retries) != 1 || retries[0].Reason != "HTTP 503" || retries[0].Provider != "oauth" {
		t.Fatalf("want one retry of the 503 by the upstream client, got %+v", retries)
	}
}
