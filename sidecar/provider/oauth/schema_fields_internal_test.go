package oauth

import (
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/schemafields"
)

func TestGoTypesMatchSchemas(t *testing.T) {
	schemafields.CheckProvider(t, Provider(), Connection{}, map[string]schemafields.Types{
		"oauth.revokeToken": {Input: revokeTokenInput{}, Data: Result{}},
	})
}
