package action

import (
	"fmt"
	"path"
	"strings"
)

// Bundle returns the schema at file#fragment with every $ref replaced by
// what it points to, so documents built from it (GET /v1/actions, OpenAPI)
// stand alone. Keywords beside a $ref win over the referenced ones, which is
// how a property gives a shared definition its own description.
func (s *SchemaSet) Bundle(file, fragment string) (map[string]any, error) {
	doc, ok := s.raw[file]
	if !ok {
		return nil, fmt.Errorf("no schema file %s", file)
	}
	node, err := pointer(doc, fragment)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", file, fragment, err)
	}
	out, err := s.inline(file, node, 0)
	if err != nil {
		return nil, err
	}
	m, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s%s is not an object", file, fragment)
	}
	return m, nil
}

func (s *SchemaSet) inline(file string, node any, depth int) (any, error) {
	if depth > 32 {
		return nil, fmt.Errorf("%s: $ref nesting too deep (a cycle?)", file)
	}
	switch n := node.(type) {
	case []any:
		out := make([]any, len(n))
		for i, v := range n {
			r, err := s.inline(file, v, depth)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := map[string]any{}
		if ref, ok := n["$ref"].(string); ok {
			target, fragment, _ := strings.Cut(ref, "#")
			targetFile := file
			if target != "" {
				targetFile = path.Join(path.Dir(file), target)
			}
			resolved, err := s.Bundle(targetFile, "#"+fragment)
			if err != nil {
				return nil, fmt.Errorf("%s: $ref %s: %w", file, ref, err)
			}
			for k, v := range resolved {
				out[k] = v
			}
		}
		for k, v := range n {
			switch k {
			case "$ref", "$id", "$schema", "$defs":
				continue
			}
			r, err := s.inline(file, v, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	default:
		return node, nil
	}
}

func pointer(doc map[string]any, fragment string) (any, error) {
	fragment = strings.TrimPrefix(fragment, "#")
	var cur any = doc
	if fragment == "" {
		return cur, nil
	}
	for _, part := range strings.Split(strings.TrimPrefix(fragment, "/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("pointer %s: %s is not inside an object", fragment, part)
		}
		if cur, ok = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]; !ok {
			return nil, fmt.Errorf("pointer %s: no %s", fragment, part)
		}
	}
	return cur, nil
}
