package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/audit"
)

// The outcome is read where each upstream's answer says it: in data (3CX,
// OAuth) or, when data is a device list, in meta (Appgate). An answer too
// large to keep falls back to the input for a dry run.
func TestAuditOutcomeReadFromTheAnswer(t *testing.T) {
	for _, c := range []struct {
		name, body       string
		targets          map[string]any
		limit            int
		outcome, verdict string
	}{
		{"3CX dry run", `{"data":{"resource":"SecurityToken","id":3,"revoked":false,"dryRun":true,"wouldRevoke":true}}`, nil, 0, audit.DryRun, ""},
		{"OAuth verified", `{"data":{"revoked":true,"verified":true,"verification":{"status":"verified","detail":"x"}}}`, nil, 0, audit.Verified, "verified"},
		{"OAuth not checked", `{"data":{"revoked":true,"verified":false,"verification":{"status":"not-checked","detail":"x"}}}`, nil, 0, audit.Succeeded, "not-checked"},
		{"Appgate unverifiable", `{"data":[{"distinguishedName":"CN=a,OU=ldap"}],"meta":{"verified":false,"verification":{"status":"unverifiable","detail":"x"}}}`, nil, 0, audit.Succeeded, "unverifiable"},
		{"Appgate dry run", `{"data":[{"distinguishedName":"CN=a,OU=ldap"}],"meta":{"dryRun":true}}`, nil, 0, audit.DryRun, ""},
		{"plain revocation", `{"data":{"resource":"SecurityToken","id":3,"revoked":true}}`, nil, 0, audit.Succeeded, ""},
		{"dry run too large to keep", `{"data":[` + strings.Repeat(`{"distinguishedName":"CN=a,OU=ldap"},`, 100) + `{}],"meta":{"dryRun":true}}`, map[string]any{"dryRun": true}, 64, audit.DryRun, ""},
		{"revocation too large to keep", `{"data":[` + strings.Repeat(`{"distinguishedName":"CN=a,OU=ldap"},`, 100) + `{}],"meta":{}}`, map[string]any{"dryRun": false}, 64, audit.Succeeded, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			limit := c.limit
			if limit == 0 {
				limit = 64 << 10
			}
			rec := newCapture(httptest.NewRecorder(), limit)
			_, _ = rec.Write([]byte(c.body))
			outcome, verdict := answered(rec, c.targets)
			if outcome != c.outcome || verdict != c.verdict {
				t.Errorf("outcome %q, verification %q; want %q, %q", outcome, verdict, c.outcome, c.verdict)
			}
		})
	}
}
