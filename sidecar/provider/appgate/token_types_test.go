package appgate

import (
	"slices"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// The schema validates token types and Go spells them for the controller;
// this test keeps the two in step.
func TestTokenTypesAgreeWithTheSchema(t *testing.T) {
	set, err := action.LoadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	const file, prop = "actions/appgate.revokeDeviceTokens.json", "#/$defs/input/properties/tokenType"
	s, err := set.Compile(file, prop)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := set.Bundle(file, prop)
	var examples []string
	for _, e := range doc["examples"].([]any) {
		examples = append(examples, e.(string))
	}
	if !slices.Equal(examples, tokenTypes) {
		t.Fatalf("schema examples %v, Go spellings %v", examples, tokenTypes)
	}
	for _, tt := range tokenTypes {
		for _, v := range []string{tt, strings.ToLower(tt), strings.ToUpper(tt)} {
			if err := s.Validate(v); err != nil {
				t.Errorf("%q refused: %v", v, err)
			}
			if got := canonicalTokenType(v); got != tt {
				t.Errorf("canonicalTokenType(%q) = %q", v, got)
			}
		}
	}
	for _, bad := range []string{"", "Claim", "Claims ", "All"} {
		if s.Validate(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
