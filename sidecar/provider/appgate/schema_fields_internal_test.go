package appgate

import (
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/schemafields"
)

func TestGoTypesMatchSchemas(t *testing.T) {
	schemafields.CheckProvider(t, Provider(), Connection{}, map[string]schemafields.Types{
		"appgate.revokeDeviceTokens":   {Input: revokeInput{}, Data: []Device{}, Meta: revokeMeta{}},
		"appgate.listOnboardedDevices": {Input: listInput{}, Data: []Device{}, Meta: ListMeta{}},
	})
}
