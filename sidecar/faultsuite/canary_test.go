package faultsuite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/nexusemu"
)

// Every action, successful and failing in every way we know, with canary
// secrets: none of them may appear in a log line, an audit event or a
// problem body. Generated app tokens may appear only in the answer that
// carries them.
func TestNoSecretReachesLogsAuditOrProblems(t *testing.T) {
	w := newWorld(t)
	pbx, ag, nexus := w.threecxConn(), w.appgateConn(), w.nexusConn()
	const wrongSecret = "CANARY-wrong-secret-31a7"
	canaries := []string{callerKey, appgatePassword, nexusSecret, wrongSecret, pbx["clientSecret"].(string)}
	// Tokens the caller asks to revoke: secrets too, never echoed.
	access, refresh := w.nexus.IssuePair("MyClient")
	access2, _ := w.nexus.IssuePair("MyClient")
	canaries = append(canaries, access, refresh, access2)

	var appTokens []string
	successes := []struct {
		id    string
		conn  map[string]any
		input any
	}{
		{"threecx.listRefreshTokens", pbx, map[string]any{"top": 2}},
		{"threecx.listSecurityTokens", pbx, map[string]any{"top": 2}},
		{"threecx.revokeSecurityToken", pbx, map[string]any{"id": 1}},
		{"threecx.generateAppToken", pbx, map[string]any{"id": 32}},
		{"appgate.listOnboardedDevices", ag, map[string]any{}},
		{"appgate.revokeDeviceTokens", ag, aliceLaptop},
		{"oauth.revokeToken", nexus, map[string]any{"token": access, "tokenTypeHint": "access_token"}},
		{"oauth.revokeToken", nexus, map[string]any{"token": refresh}},
	}
	for i, c := range successes {
		key := fmt.Sprintf("canary-%d", i)
		a := w.call(c.id, c.conn, c.input, "Idempotency-Key", key, "X-Tokenwarden-Actor", "canary suite")
		if a.status != 200 {
			t.Fatalf("%s: %d %s", c.id, a.status, a.raw)
		}
		if c.id == "threecx.generateAppToken" {
			tok := a.body["data"].(map[string]any)["appToken"].(string)
			appTokens = append(appTokens, tok)
		}
		// Replayed from the store, too.
		w.call(c.id, c.conn, c.input, "Idempotency-Key", key)
	}

	wrong := func(conn map[string]any, field string) map[string]any {
		c := map[string]any{}
		for k, v := range conn {
			c[k] = v
		}
		c[field] = wrongSecret
		return c
	}
	failures := []struct {
		id    string
		conn  map[string]any
		input any
		fault *faults.Rule
	}{
		{"threecx.revokeSecurityToken", wrong(pbx, "clientSecret"), map[string]any{"id": 1}, nil},
		{"appgate.revokeDeviceTokens", wrong(ag, "password"), aliceLaptop, nil},
		{"threecx.revokeSecurityToken", wrong(pbx, "clientSecretTypo"), map[string]any{"id": "x"}, nil},
		{"threecx.revokeSecurityToken", wrong(pbx, "clientSecret"), map[string]any{"id": 1}, &faults.Rule{Path: tokenPath, Fault: faults.Status(500, "")}},
		{"threecx.generateAppToken", pbx, map[string]any{"id": 32}, &faults.Rule{Path: generatePath, Fault: faults.ResetAfter()}},
		{"threecx.generateAppToken", pbx, map[string]any{"id": 32}, &faults.Rule{Path: generatePath, Fault: faults.Truncate(12)}},
		{"threecx.listSecurityTokens", pbx, map[string]any{}, &faults.Rule{Path: listPath, Fault: faults.HTML(502)}},
		{"threecx.revokeSecurityToken", pbx, map[string]any{"id": 1}, &faults.Rule{Path: revokePath, Fault: faults.Do(w.pbx.InvalidateAccessTokens)}},
		{"appgate.revokeDeviceTokens", ag, aliceLaptop, &faults.Rule{Path: agRevokePath, Fault: faults.Status(http.StatusTooManyRequests, "300")}},
		{"appgate.listOnboardedDevices", ag, map[string]any{}, &faults.Rule{Path: "/admin/on-boarded-devices", Fault: faults.Truncate(3)}},
		{"threecx.revokeSecurityToken", map[string]any{"baseUrl": "http://169.254.169.254", "clientId": "x", "clientSecret": wrongSecret}, map[string]any{"id": 1}, nil},
		{"threecx.revokeSecurityToken", map[string]any{"baseUrl": "http://127.0.0.1:1", "clientId": "x", "clientSecret": wrongSecret}, map[string]any{"id": 1}, nil},
		{"threecx.revokeSecurityToken", map[string]any{"baseUrl": w.pbxURL, "clientId": "x", "clientSecret": strings.Repeat(wrongSecret, 40)}, map[string]any{"id": 1}, nil},
		{"oauth.revokeToken", wrong(nexus, "clientSecret"), map[string]any{"token": access2}, nil},
		{"oauth.revokeToken", nexus, map[string]any{"token": access2, "tokenTypeHint": "bogus"}, nil},
		{"oauth.revokeToken", nexus, map[string]any{"token": access2}, &faults.Rule{Path: nexusemu.RevokePath, Fault: faults.Status(http.StatusServiceUnavailable, "0")}},
		{"oauth.revokeToken", nexus, map[string]any{"token": access2}, &faults.Rule{Path: nexusemu.RevokePath, Fault: faults.HTML(500)}},
		{"oauth.revokeToken", map[string]any{"dialect": "nexus", "baseUrl": "http://metadata.google.internal", "clientId": "MyClient", "clientSecret": wrongSecret}, map[string]any{"token": access2}, nil},
	}
	for _, c := range failures {
		for _, inj := range []*faults.Injector{w.pbxInj, w.agInj, w.nexusInj} {
			inj.Clear()
			if c.fault != nil {
				inj.Add(*c.fault)
			}
		}
		if a := w.call(c.id, c.conn, c.input); a.status < 400 {
			t.Errorf("%s with %+v: want a failure, got %d", c.id, c.fault, a.status)
		}
	}
	// Requests that never reach a provider.
	w.post("/v1/actions/threecx.revokeSecurityToken", []byte(`{"connection": {"clientSecret": "`+wrongSecret+`"`))
	w.post("/v1/actions/threecx.nope", []byte(`{"connection": {"clientSecret": "`+wrongSecret+`"}}`))
	w.post("/v1/actions/threecx.revokeSecurityToken", []byte(`{"connection": {}, "secret": "`+wrongSecret+`"}`))
	w.post("/v1/connections/threecx/test", []byte(`{"connection": {"baseUrl": "`+w.pbxURL+`", "clientId": "x", "clientSecret": "`+wrongSecret+`"}}`))
	req, _ := http.NewRequest(http.MethodGet, w.url+"/v1/actions", nil)
	req.Header.Set("Authorization", "Bearer "+wrongSecret)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	w.mu.Lock()
	for tok := range w.bearers {
		canaries = append(canaries, tok)
	}
	w.mu.Unlock()
	canaries = append(canaries, w.ag.IssuedTokens()...)
	if len(appTokens) == 0 || len(w.bearers) == 0 {
		t.Fatal("the run produced no tokens to look for")
	}

	scraped := w.scrape()
	for _, moved := range []string{`tokenwarden_idempotent_replays_total [1-9]`, `tokenwarden_upstream_retries_total\{[^}]*\} [1-9]`} {
		if !regexp.MustCompile(moved).MatchString(scraped) {
			t.Errorf("/metrics did not count replays and retries (%s):\n%s", moved, scraped)
		}
	}
	w.assertNoCanaries(canaries, appTokens)
	audits := w.audits.String()
	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(audits), "\n") {
		var e map[string]any
		_ = json.Unmarshal([]byte(line), &e)
		events = append(events, e)
	}
	if len(events) < 10 {
		t.Fatalf("only %d audit events", len(events))
	}
}

// assertNoCanaries fails the test when a canary is in a log line, an audit
// event, a problem body or a /metrics scrape, or when a canary (but not one
// of the allowed values, which are the point of the answer carrying them)
// is in any answer.
func (w *world) assertNoCanaries(canaries, allowedInAnswers []string) {
	t := w.t
	t.Helper()
	var problems, all []string
	w.mu.Lock()
	for _, a := range w.answers {
		all = append(all, a.raw)
		if a.status >= 400 {
			problems = append(problems, a.raw)
		}
	}
	w.mu.Unlock()
	outputs := map[string]string{"logs": w.logs.String(), "audit events": w.audits.String(), "problem bodies": strings.Join(problems, "\n"), "metrics": w.scrape()}
	for name, out := range outputs {
		if out == "" {
			t.Fatalf("no %s were produced", name)
		}
		for _, c := range append(canaries, allowedInAnswers...) {
			if strings.Contains(out, c) {
				i := strings.Index(out, c)
				t.Errorf("%s contain the canary %q: …%s…", name, c[:min(len(c), 12)]+"…", out[max(0, i-300):i])
			}
		}
	}
	for _, c := range canaries {
		if strings.Contains(strings.Join(all, "\n"), c) {
			t.Errorf("an answer contains the canary %q", c[:min(len(c), 12)]+"…")
		}
	}
}
