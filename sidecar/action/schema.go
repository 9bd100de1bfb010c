package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tokenwarden/tokenwarden/schemas"
)

// SchemaSet is every schema file compiled once at start-up.
type SchemaSet struct {
	compiler *jsonschema.Compiler
	raw      map[string]map[string]any // path below schemas.BaseURI → parsed file
}

// LoadSchemas parses and registers every embedded schema file.
func LoadSchemas() (*SchemaSet, error) {
	return loadSchemas(schemas.FS)
}

func loadSchemas(files fs.FS) (*SchemaSet, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	// Defaults live in the schemas; handlers get them applied (applyDefaults).
	c.ExtractAnnotations = true
	// Schemas refer only to each other; refusing remote loads keeps start-up
	// offline and deterministic.
	c.LoadURL = func(s string) (io.ReadCloser, error) { return nil, fmt.Errorf("schema %s is not embedded", s) }
	set := &SchemaSet{compiler: c, raw: map[string]map[string]any{}}
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("schema %s: %w", path, err)
		}
		if id, _ := doc["$id"].(string); id != schemas.BaseURI+path {
			return fmt.Errorf("schema %s: $id must be %q, is %q", path, schemas.BaseURI+path, id)
		}
		set.raw[path] = doc
		return c.AddResource(schemas.BaseURI+path, bytes.NewReader(b))
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// Compile compiles the schema at path#fragment (e.g. "actions/x.json",
// "#/$defs/input").
func (s *SchemaSet) Compile(path, fragment string) (*jsonschema.Schema, error) {
	return s.compiler.Compile(schemas.BaseURI + path + fragment)
}

// Validate checks a document against the schema file at path (one that is
// not an action or a connection, such as the config file's), naming bad
// fields by their dotted path from root, and returns it with the schema's
// defaults applied.
func (s *SchemaSet) Validate(path, root string, raw []byte) (json.RawMessage, []FieldError) {
	sch, err := s.Compile(path, "")
	if err != nil {
		return nil, []FieldError{{Field: root, Message: err.Error()}}
	}
	return validateValue(root, sch, raw, true)
}

// Raw returns a schema file as parsed JSON (for documents built from it).
func (s *SchemaSet) Raw(path string) (map[string]any, bool) {
	doc, ok := s.raw[path]
	return doc, ok
}

// Paths lists the schema files below a folder ("actions/", "connections/").
func (s *SchemaSet) Paths(prefix string) []string {
	var out []string
	for p := range s.raw {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

var quotedName = regexp.MustCompile(`'([^']*)'`)

// fieldErrors flattens a validation error into one entry per bad field,
// each named by its dotted path below root ("input", "connection").
func fieldErrors(root string, err error) []FieldError {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []FieldError{{Field: root, Message: err.Error()}}
	}
	messages := map[string][]string{}
	var order []string
	add := func(field, msg string) {
		if _, seen := messages[field]; !seen {
			order = append(order, field)
		}
		for _, m := range messages[field] {
			if m == msg {
				return
			}
		}
		messages[field] = append(messages[field], msg)
	}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		base := dotted(root, e.InstanceLocation)
		keyword := e.KeywordLocation[strings.LastIndex(e.KeywordLocation, "/")+1:]
		switch keyword {
		case "required":
			for _, m := range quotedName.FindAllStringSubmatch(e.Message, -1) {
				add(base+"."+m[1], "is required")
			}
		case "additionalProperties":
			for _, m := range quotedName.FindAllStringSubmatch(e.Message, -1) {
				add(base+"."+m[1], "is not a known field")
			}
		case "dependentRequired":
			for _, m := range quotedName.FindAllStringSubmatch(e.Message, -1) {
				add(base+"."+m[1], "is required together with the field beside it")
			}
		default:
			add(base, e.Message)
		}
	}
	walk(ve)
	out := make([]FieldError, 0, len(order))
	for _, f := range order {
		out = append(out, FieldError{Field: f, Message: strings.Join(messages[f], "; ")})
	}
	return out
}

// dotted turns a JSON pointer into the dotted path users see.
func dotted(root, pointer string) string {
	if pointer == "" {
		return root
	}
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return root + "." + strings.Join(parts, ".")
}

// applyDefaults fills absent properties that declare a default, at every
// depth, so handlers see the schema's defaults and not Go zero values. A
// whole number where the schema wants an integer gets its plain spelling
// (3.0 and 1e2 are schema-valid integers; Go's integer types read only 3
// and 100).
func applyDefaults(s *jsonschema.Schema, v any) any {
	if n, ok := v.(json.Number); ok {
		if wantsInteger(s) {
			return integerText(n)
		}
		return v
	}
	for s != nil && s.Ref != nil && len(s.Properties) == 0 && s.Items2020 == nil {
		s = s.Ref
	}
	if s == nil {
		return v
	}
	if list, ok := v.([]any); ok {
		if s.Items2020 != nil {
			for i, item := range list {
				list[i] = applyDefaults(s.Items2020, item)
			}
		}
		return list
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for name, ps := range s.Properties {
		d := ps
		for d.Default == nil && d.Ref != nil {
			d = d.Ref
		}
		if cur, present := obj[name]; present {
			obj[name] = applyDefaults(ps, cur)
		} else if d.Default != nil {
			// A copy: the schema's default is shared by every request.
			obj[name] = applyDefaults(ps, deepCopy(d.Default))
		}
	}
	return obj
}

func deepCopy(v any) any { return copyTree(v, func(leaf any) any { return leaf }) }

// copyTree copies a decoded JSON tree, passing every leaf through leaf.
func copyTree(v any, leaf func(any) any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = copyTree(x, leaf)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = copyTree(x, leaf)
		}
		return a
	default:
		return leaf(v)
	}
}

// wantsInteger says whether s (or what it refers to) is an integer schema.
func wantsInteger(s *jsonschema.Schema) bool {
	for ; s != nil; s = s.Ref {
		for _, t := range s.Types {
			if t == "integer" {
				return true
			}
		}
		if len(s.Types) > 0 {
			return false
		}
	}
	return false
}
