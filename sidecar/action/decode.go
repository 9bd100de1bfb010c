package action

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Input is an action's input after validation: the value the request body
// was decoded to once, checked against the schema and given its defaults.
// Decode moves it into a Go value without encoding it again.
type Input struct {
	root  string
	value any
}

// Decode sets dst (a pointer) from the input the way encoding/json would
// from the same document: fields by their json tag, json.Unmarshaler and
// encoding.TextUnmarshaler honoured, unknown members ignored. A whole
// number written as 3.0 or 1e2 fills an integer field. A value the Go type
// cannot hold comes back as a FieldError naming the field, so a schema and
// a Go type that disagree show as invalid input, not as a crash.
func (in Input) Decode(dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("action: Decode needs a non-nil pointer, got %T", dst)
	}
	root := in.root
	if root == "" {
		root = "input"
	}
	if err := assign(in.value, v.Elem(), &fieldPath{name: root}); err != nil {
		return err
	}
	return nil
}

// fieldPath is where assign is, spelled out only when something is wrong.
type fieldPath struct {
	parent *fieldPath
	name   string
	index  int
}

func (p *fieldPath) String() string {
	if p.parent == nil {
		return p.name
	}
	if p.name == "" {
		return p.parent.String() + "." + strconv.Itoa(p.index)
	}
	return p.parent.String() + "." + p.name
}

// decodeError names the field whose value did not fit its Go type.
type decodeError struct{ FieldError }

func (e *decodeError) Error() string { return e.Field + " " + e.Message }

func mismatch(path *fieldPath, v any, t reflect.Type) error {
	return &decodeError{FieldError{Field: path.String(), Message: fmt.Sprintf("must be a %s, not %s", goKind(t), jsonKind(v))}}
}

func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "whole number"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "list"
	default:
		return "object"
	}
}

func jsonKind(v any) string {
	switch n := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + string(n)
	case string:
		return "a string"
	case []any:
		return "a list"
	default:
		return "an object"
	}
}

func assign(v any, dst reflect.Value, path *fieldPath) error {
	if dst.CanAddr() {
		if u, ok := dst.Addr().Interface().(json.Unmarshaler); ok && dst.Kind() != reflect.Pointer {
			// Rare (custom list syntaxes, json.RawMessage): hand the
			// member's JSON to its own decoder.
			b, err := json.Marshal(v)
			if err == nil {
				err = u.UnmarshalJSON(b)
			}
			if err != nil {
				return &decodeError{FieldError{Field: path.String(), Message: err.Error()}}
			}
			return nil
		}
		if u, ok := dst.Addr().Interface().(encoding.TextUnmarshaler); ok && dst.Kind() != reflect.Pointer {
			s, isString := v.(string)
			if !isString {
				return mismatch(path, v, reflect.TypeFor[string]())
			}
			if err := u.UnmarshalText([]byte(s)); err != nil {
				return &decodeError{FieldError{Field: path.String(), Message: err.Error()}}
			}
			return nil
		}
	}
	if v == nil {
		// encoding/json leaves a non-pointer as it is on null and clears
		// pointers, maps, slices and interfaces.
		switch dst.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			dst.SetZero()
		}
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return assign(v, dst.Elem(), path)
	case reflect.Interface:
		if dst.NumMethod() != 0 {
			return mismatch(path, v, dst.Type())
		}
		dst.Set(reflect.ValueOf(plain(v)))
		return nil
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return mismatch(path, v, dst.Type())
		}
		fields := fieldsOf(dst.Type())
		for name, member := range obj {
			idx, ok := fields.byName[name]
			if !ok {
				if idx, ok = fields.fold(name); !ok {
					continue
				}
			}
			at := &fieldPath{parent: path, name: name}
			f, err := fieldByIndex(dst, idx)
			if err != nil {
				return &decodeError{FieldError{Field: at.String(), Message: err.Error()}}
			}
			if err := assign(member, f, at); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok || dst.Type().Key().Kind() != reflect.String {
			return mismatch(path, v, dst.Type())
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMapWithSize(dst.Type(), len(obj)))
		}
		elem := dst.Type().Elem()
		for name, member := range obj {
			e := reflect.New(elem).Elem()
			if err := assign(member, e, &fieldPath{parent: path, name: name}); err != nil {
				return err
			}
			dst.SetMapIndex(reflect.ValueOf(name).Convert(dst.Type().Key()), e)
		}
		return nil
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return mismatch(path, v, dst.Type())
		}
		s := reflect.MakeSlice(dst.Type(), len(list), len(list))
		for i, item := range list {
			if err := assign(item, s.Index(i), &fieldPath{parent: path, index: i}); err != nil {
				return err
			}
		}
		dst.Set(s)
		return nil
	case reflect.Array:
		list, ok := v.([]any)
		if !ok {
			return mismatch(path, v, dst.Type())
		}
		for i := 0; i < dst.Len(); i++ {
			if i < len(list) {
				if err := assign(list[i], dst.Index(i), &fieldPath{parent: path, index: i}); err != nil {
					return err
				}
			} else {
				dst.Index(i).SetZero()
			}
		}
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return mismatch(path, v, dst.Type())
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return mismatch(path, v, dst.Type())
		}
		dst.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch(path, v, dst.Type())
		}
		if !setNumber(dst, n) {
			return outOfRange(path, n, dst.Type())
		}
		return nil
	}
	return &decodeError{FieldError{Field: path.String(), Message: "has no Go type that can hold it (" + dst.Type().String() + ")"}}
}

func outOfRange(path *fieldPath, n json.Number, t reflect.Type) error {
	what := "a whole number"
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		what = "a number"
	}
	return &decodeError{FieldError{Field: path.String(), Message: fmt.Sprintf("must be %s this sidecar can hold (%d-bit), not %s", what, t.Bits(), n)}}
}

// wholeNumber reads an integer however JSON spells it: 3, 3.0, 1e2, 300e-2.
// The fast path is the common spelling; the rest goes through big.Rat as the
// schema validator already did for the same text.
func wholeNumber(n json.Number) (*big.Int, error) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return big.NewInt(i), nil
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || !r.IsInt() {
		return nil, fmt.Errorf("%s is not a whole number", n)
	}
	return r.Num(), nil
}

// setNumber stores n in a numeric dst, false when dst cannot hold it.
func setNumber(dst reflect.Value, n json.Number) bool {
	switch dst.Kind() {
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(string(n), dst.Type().Bits())
		if err != nil || dst.OverflowFloat(f) {
			return false
		}
		dst.SetFloat(f)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, err := wholeNumber(n)
		if err != nil || !i.IsUint64() || dst.OverflowUint(i.Uint64()) {
			return false
		}
		dst.SetUint(i.Uint64())
	default:
		i, ok := int64Of(n)
		if !ok || dst.OverflowInt(i) {
			return false
		}
		dst.SetInt(i)
	}
	return true
}

// int64Of reads a whole number within 64 bits, allocating only for the
// rare spellings.
func int64Of(n json.Number) (int64, bool) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	i, err := wholeNumber(n)
	if err != nil || !i.IsInt64() {
		return 0, false
	}
	return i.Int64(), true
}

// integerText returns the plain spelling of a whole number (1e2 → 100), or
// n itself when it is not whole or not within 64 bits.
func integerText(n json.Number) json.Number {
	if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return n
	}
	i, err := wholeNumber(n)
	if err != nil || !i.IsInt64() {
		return n
	}
	return json.Number(i.String())
}

// plain turns decoded numbers into float64, as encoding/json does for
// interface values, so a handler's map[string]any sees what it always saw.
func plain(v any) any {
	return copyTree(v, func(leaf any) any {
		n, ok := leaf.(json.Number)
		if !ok {
			return leaf
		}
		if f, err := n.Float64(); err == nil {
			return f
		}
		return string(n)
	})
}

// structFields maps a struct's JSON member names to field indexes, once per
// type.
type structFields struct {
	byName map[string][]int
	names  []string
}

func (f *structFields) fold(name string) ([]int, bool) {
	for _, n := range f.names {
		if strings.EqualFold(n, name) {
			return f.byName[n], true
		}
	}
	return nil, false
}

var fieldCache sync.Map // reflect.Type → *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{byName: map[string][]int{}}
	for _, field := range JSONFields(t) {
		if _, dup := f.byName[field.Name]; !dup {
			f.byName[field.Name] = field.Index
			f.names = append(f.names, field.Name)
		}
	}
	fieldCache.Store(t, f)
	return f
}

// JSONField is one member encoding/json reads into a struct.
type JSONField struct {
	Name  string
	Index []int
	Type  reflect.Type
}

// JSONFields lists the members encoding/json would read into struct type
// t: exported fields by their json tag name (or Go name), fields of
// untagged embedded structs promoted, "-" left out. Shallower fields win
// over promoted ones of the same name.
func JSONFields(t reflect.Type) []JSONField {
	var out []JSONField
	seen := map[string]bool{}
	var walk func(t reflect.Type, index []int, depth int)
	var deeper []func()
	walk = func(t reflect.Type, index []int, depth int) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			ft := sf.Type
			if sf.Anonymous && name == "" {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					deeper = append(deeper, func() { walk(ft, idx, depth+1) })
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if !seen[name] {
				seen[name] = true
				out = append(out, JSONField{Name: name, Index: idx, Type: sf.Type})
			}
		}
	}
	walk(t, nil, 0)
	for len(deeper) > 0 {
		next := deeper
		deeper = nil
		for _, f := range next {
			f()
		}
	}
	return out
}

// fieldByIndex is reflect's FieldByIndex that allocates embedded pointers
// on the way, as encoding/json does.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, fmt.Errorf("cannot set embedded pointer to unexported struct %v", v.Type().Elem())
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, nil
}
