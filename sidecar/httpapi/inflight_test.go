package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestInFlightListsRunningActions(t *testing.T) {
	f := NewInFlight()
	var during []Call
	h := RequestID(f.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { during = f.Snapshot() })))
	req := httptest.NewRequest(http.MethodPost, "/v1/actions/threecx.revokeSecurityToken", nil)
	req.Header.Set(RequestIDHeader, "req-1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if len(during) != 1 || during[0].RequestID != "req-1" || during[0].Action != "threecx.revokeSecurityToken" {
		t.Fatalf("during: %+v", during)
	}
	if after := f.Snapshot(); len(after) != 0 {
		t.Fatalf("after: %+v", after)
	}
}
