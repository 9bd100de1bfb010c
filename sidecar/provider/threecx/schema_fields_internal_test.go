package threecx

import (
	"encoding/json"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/schemafields"
)

func TestGoTypesMatchSchemas(t *testing.T) {
	list := schemafields.Types{Input: ListOptions{}, Data: []json.RawMessage{}, Meta: ListMeta{}}
	schemafields.CheckProvider(t, Provider(), Connection{}, map[string]schemafields.Types{
		"threecx.revokeSecurityToken": {Input: idInput{}, Data: Revoked{}},
		"threecx.listSecurityTokens":  list,
		"threecx.listRefreshTokens":   list,
		"threecx.generateAppToken":    {Input: idInput{}, Data: AppToken{}},
	})
}
