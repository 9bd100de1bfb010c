package threecx

import (
	"encoding/json"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/schemafields"
)

func TestGoTypesMatchSchemas(t *testing.T) {
	list := schemafields.Types{Input: ListOptions{}, Data: []json.RawMessage{}, Meta: ListMeta{}}
	schemafields.CheckProvider(t, Provider(), Connection{}, map[string]schemafields.Types{
		"threecx.revokeSecurityToken":   {Input: revokeInput{}, Data: Revoked{}},
		"threecx.revokeRefreshToken":    {Input: revokeInput{}, Data: Revoked{}},
		"threecx.listSecurityTokens":    list,
		"threecx.listRefreshTokens":     list,
		"threecx.listServicePrincipals": list,
		"threecx.generateAppToken":      {Input: generateInput{}, Data: AppToken{}},
	})
}
