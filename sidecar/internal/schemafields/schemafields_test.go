package schemafields

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	Deep string `json:"deep"`
}

type base struct {
	Shared string `json:"shared"`
}

type outer struct {
	base
	Name    string           `json:"name,omitempty"`
	Items   []inner          `json:"items"`
	ByKey   map[string]inner `json:"byKey"`
	Raw     json.RawMessage  `json:"raw"`
	Ignored string           `json:"-"`
	Extra   int              `json:"extra"`
}

func TestMismatchesNamesBothSidesAtEveryDepth(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal([]byte(`{"type": "object", "properties": {
		"shared": {"type": "string"},
		"name": {"type": "string"},
		"items": {"type": "array", "items": {"type": "object", "properties": {"deep": {}, "deeper": {}}}},
		"byKey": {"type": "object", "additionalProperties": {"properties": {"deep": {}}}},
		"raw": {"type": "object", "properties": {"anything": {}}},
		"missing": {"type": "string"}
	}}`), &schema); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(Mismatches(schema, reflect.TypeOf(outer{})), "\n")
	for _, want := range []string{`property "missing" has no field`, `items.[]: property "deeper" has no field`, `json name "extra" of schemafields.outer has no property`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != 3 {
		t.Errorf("want exactly 3 mismatches (embedded, map, raw and '-' fields are fine), got %d:\n%s", n, got)
	}
}
