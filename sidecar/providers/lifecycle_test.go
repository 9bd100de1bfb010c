package providers_test

import (
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

// Every mutating action can be previewed, and every revocation verified:
// a new action that forgets either fails here, not in a user's flow.
func TestEveryMutatingActionHasDryRunAndEveryRevocationVerify(t *testing.T) {
	reg, err := providers.Registry(action.Env{})
	if err != nil {
		t.Fatal(err)
	}
	mutating := 0
	for _, d := range reg.Actions() {
		props, _ := d.Input["properties"].(map[string]any)
		if !d.Mutating {
			if _, ok := props["dryRun"]; ok {
				t.Errorf("%s changes nothing but takes dryRun", d.ID)
			}
			continue
		}
		mutating++
		if _, ok := props["dryRun"]; !ok {
			t.Errorf("%s is mutating but takes no dryRun", d.ID)
		}
		if _, ok := props["verify"]; strings.Contains(strings.ToLower(d.ID), "revoke") && !ok {
			t.Errorf("%s revokes but takes no verify", d.ID)
		}
	}
	if mutating < 5 {
		t.Fatalf("only %d mutating actions found", mutating)
	}
}
