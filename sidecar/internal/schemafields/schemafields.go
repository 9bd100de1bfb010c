// Package schemafields holds Go types against the schema files they mirror:
// every property of an object schema needs a Go field with that json name,
// and every Go field needs a property, at every depth. A renamed property
// then fails a test instead of arriving as a silent zero value.
package schemafields

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// Types are the Go types of one action: Input is what its handler decodes,
// Data the value it answers with (the "data" member), Meta the "meta"
// member's (nil when the output has none). Zero values are enough:
// Types{Input: idInput{}, Data: Revoked{}}.
type Types struct {
	Input, Data, Meta any
}

// CheckProvider holds p's connection type and every action's types against
// the embedded schema files. Every action of p must be listed and nothing
// else, so a new action cannot skip the check.
func CheckProvider(t *testing.T, p action.Provider, connection any, actions map[string]Types) {
	t.Helper()
	set, err := action.LoadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := set.Bundle("connections/"+p.ID+".json", "")
	if err != nil {
		t.Fatal(err)
	}
	report(t, "connection "+p.ID, Mismatches(conn, reflect.TypeOf(connection)))
	declared := map[string]bool{}
	for _, a := range p.Actions {
		declared[a.ID] = true
		types, ok := actions[a.ID]
		if !ok {
			t.Errorf("action %s: no Go types listed for it; add them to this test", a.ID)
			continue
		}
		path := "actions/" + a.ID + ".json"
		in, err := set.Bundle(path, "#/$defs/input")
		if err != nil {
			t.Fatal(err)
		}
		report(t, a.ID+" input", Mismatches(in, reflect.TypeOf(types.Input)))
		out, err := set.Bundle(path, "#/$defs/output")
		if err != nil {
			t.Fatal(err)
		}
		report(t, a.ID+" output", outputMismatches(out, types))
	}
	for id := range actions {
		if !declared[id] {
			t.Errorf("action %s is listed here but provider %s has no such action", id, p.ID)
		}
	}
}

func report(t *testing.T, what string, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Errorf("%s: %s", what, p)
	}
}

// outputMismatches checks the output schema's members (data, meta) against
// action.Result and then each against its declared type.
func outputMismatches(out map[string]any, types Types) []string {
	props := properties(out)
	var problems []string
	for name := range props {
		if name != "data" && name != "meta" {
			problems = append(problems, fmt.Sprintf("property %q: action.Result has only data and meta", name))
		}
	}
	if s, ok := props["data"]; ok {
		problems = append(problems, prefixed("data", Mismatches(s, reflect.TypeOf(types.Data)))...)
	} else {
		problems = append(problems, "no data property")
	}
	switch s, ok := props["meta"]; {
	case ok && types.Meta == nil:
		problems = append(problems, "property \"meta\": no Go type declared for it")
	case !ok && types.Meta != nil:
		problems = append(problems, fmt.Sprintf("Go type %T for meta, but the schema has no meta property", types.Meta))
	case ok:
		problems = append(problems, prefixed("meta", Mismatches(s, reflect.TypeOf(types.Meta)))...)
	}
	return problems
}

func prefixed(prefix string, problems []string) []string {
	for i, p := range problems {
		problems[i] = prefix + "." + p
	}
	return problems
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// Mismatches compares a bundled schema (every $ref inlined) with Go type t
// and lists each property without a field and each field without a
// property, by dotted path. Types that decode themselves (json.Unmarshaler,
// encoding.TextUnmarshaler, json.RawMessage, interfaces) are leaves: what
// they accept is theirs to say.
func Mismatches(schema map[string]any, t reflect.Type) []string {
	var problems []string
	walk(schema, t, "", &problems)
	sort.Strings(problems)
	return problems
}

func walk(schema map[string]any, t reflect.Type, path string, problems *[]string) {
	if t == nil {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Interface || decodesItself(t) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		props := properties(schema)
		fields := map[string]reflect.Type{}
		for _, f := range action.JSONFields(t) {
			fields[f.Name] = f.Type
		}
		for name, sub := range props {
			ft, ok := fields[name]
			if !ok {
				*problems = append(*problems, fmt.Sprintf("%sproperty %q has no field in Go type %s (json tag %q)", at(path), name, t, name))
				continue
			}
			walk(sub, ft, join(path, name), problems)
		}
		for name := range fields {
			if _, ok := props[name]; !ok {
				*problems = append(*problems, fmt.Sprintf("%sGo field with json name %q of %s has no property in the schema", at(path), name, t))
			}
		}
	case reflect.Slice, reflect.Array:
		if items, ok := schema["items"].(map[string]any); ok {
			walk(items, t.Elem(), join(path, "[]"), problems)
		}
	case reflect.Map:
		if extra, ok := schema["additionalProperties"].(map[string]any); ok {
			walk(extra, t.Elem(), join(path, "*"), problems)
		}
	}
}

func decodesItself(t reflect.Type) bool {
	if t == reflect.TypeFor[json.RawMessage]() {
		return true
	}
	p := reflect.PointerTo(t)
	return t.Implements(jsonMarshaler) || p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler)
}

// properties gathers an object schema's properties, including those of its
// allOf / anyOf / oneOf / if / then / else branches (a connection that takes
// one of several shapes still decodes into one Go type).
func properties(schema map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	var gather func(s map[string]any)
	gather = func(s map[string]any) {
		if props, ok := s["properties"].(map[string]any); ok {
			for name, sub := range props {
				m, _ := sub.(map[string]any)
				if _, seen := out[name]; !seen || len(m) > len(out[name]) {
					out[name] = m
				}
			}
		}
		for _, key := range []string{"allOf", "anyOf", "oneOf"} {
			if list, ok := s[key].([]any); ok {
				for _, item := range list {
					if m, ok := item.(map[string]any); ok {
						gather(m)
					}
				}
			}
		}
		for _, key := range []string{"if", "then", "else"} {
			if m, ok := s[key].(map[string]any); ok {
				gather(m)
			}
		}
	}
	gather(schema)
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func at(path string) string {
	if path == "" {
		return ""
	}
	return strings.TrimSuffix(path, ".") + ": "
}
