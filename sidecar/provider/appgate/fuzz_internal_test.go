package appgate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// FuzzControllerErrors: any error body the controller (or a proxy) sends
// becomes a problem that encodes and keeps the status, whichever parser
// reads it.
func FuzzControllerErrors(f *testing.F) {
	f.Add(422, []byte(`{"id":"unprocessable entity","message":"invalid","errors":[{"field":"tokenType","message":"bad"}]}`))
	f.Add(401, []byte(`{"id":"unauthorized","message":"Invalid username or password.","reason":"bad"}`))
	f.Add(406, []byte(`{"id":"not acceptable","message":"x","minSupportedVersion":18,"maxSupportedVersion":23}`))
	f.Add(502, []byte(`<html><title>502</title></html>`))
	f.Add(500, []byte(`{"errors": null, "minSupportedVersion": -1}`))
	f.Fuzz(func(t *testing.T, status int, raw []byte) {
		if status < 100 || status > 599 {
			status = 400 + (status%200+200)%200
		}
		for _, p := range []interface {
			Error() string
		}{upstreamProblem(status, raw, "fuzzing"), signInProblem(raw, "user", "local"), versionRefused(status, raw, 23, true), versionRefused(status, raw, 23, false)} {
			if _, err := json.Marshal(p); err != nil {
				t.Fatalf("does not encode: %v", err)
			}
		}
		if p := upstreamProblem(status, raw, "fuzzing"); p.Upstream == nil || p.Upstream.Status != status || p.Status < 400 {
			t.Fatalf("lost the status: %+v", p)
		}
	})
}

// A controller message that ends in a full stop is not given a second one.
func TestProblemsDoNotDoubleTheControllersFullStop(t *testing.T) {
	raw := []byte(`{"id":"unauthorized","message":"Invalid username or password."}`)
	for _, p := range []*action.Problem{signInProblem(raw, "admin", "local"), upstreamProblem(403, raw, "revoking")} {
		if strings.Contains(p.Detail, "..") {
			t.Errorf("doubled full stop: %s", p.Detail)
		}
	}
}
