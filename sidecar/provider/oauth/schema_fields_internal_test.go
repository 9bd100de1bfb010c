package oauth

import (
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/schemafields"
)

// revokeTokenData is every shape oauth.revokeToken's data takes, in one
// type: a revocation (Outcome), its verification (revokeAnswer) and the
// introspection a dry run adds (dryRunAnswer's only member of its own).
type revokeTokenData struct {
	revokeAnswer
	Introspection *Introspection `json:"introspection,omitempty"`
}

func TestGoTypesMatchSchemas(t *testing.T) {
	schemafields.CheckProvider(t, Provider(), Connection{}, map[string]schemafields.Types{
		"oauth.revokeToken":     {Input: revokeTokenInput{}, Data: revokeTokenData{}},
		"oauth.introspectToken": {Input: introspectInput{}, Data: Introspection{}},
	})
}
