package scenarios

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// strictTypes checks each value against its field's type before the YAML
// decoder sees it: the decoder would quietly convert a whole-number field
// written as a string ("3") or a fraction (2.5), and would name Go types
// in its errors. It also refuses an explicit 0 or less in a field tagged
// check:"positive", whose zero value stands for its default. It follows
// the document against the Scenario type, so it knows every field's type
// and path.
func strictTypes(file string, data []byte) error {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil // the decoder says what is wrong
	}
	for _, doc := range f.Docs {
		if err := walkNumbers(file, doc.Body, reflect.TypeFor[Scenario](), "", false); err != nil {
			return err
		}
	}
	return nil
}

func walkNumbers(file string, n ast.Node, t reflect.Type, field string, positive bool) error {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
			continue
		case *ast.AnchorNode:
			n = v.Value
			continue
		}
		break
	}
	if n == nil || n.Type() == ast.NullType {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, custom := reflect.PointerTo(t).MethodByName("UnmarshalYAML"); custom {
		return nil // the type reads itself and says what is wrong
	}
	fail := func(format string, args ...any) error {
		e := &Error{File: file, Field: field, Msg: fmt.Sprintf(format, args...)}
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
		return e
	}
	switch t.Kind() {
	case reflect.Int:
		v, ok := n.(*ast.IntegerNode)
		if !ok {
			return fail("must be a whole number, not %s", strings.TrimSpace(n.String()))
		}
		var below bool
		switch x := v.Value.(type) {
		case int64:
			below = x < 1
		case uint64:
			below = x < 1
		}
		if positive && below {
			return fail("must be 1 or more, not %v (leave it out for the default)", v.Value)
		}
	case reflect.String:
		switch n.Type() {
		case ast.MappingType, ast.MappingValueType, ast.SequenceType:
			return fail("must be text, not %s", kindOf(n))
		}
	case reflect.Bool:
		if n.Type() != ast.BoolType {
			return fail("must be true or false, not %s", strings.TrimSpace(n.String()))
		}
	case reflect.Struct:
		if !isMapping(n) {
			return fail("must be a mapping of fields, not %s", kindOf(n))
		}
		for _, kv := range mappingValues(n) {
			key := kv.Key.String()
			sf, ok := fieldByTag(t, key)
			if !ok {
				continue // the decoder refuses unknown fields
			}
			err := walkNumbers(file, kv.Value, sf.Type, join(field, key),
				sf.Tag.Get("check") == "positive")
			if err != nil {
				return err
			}
		}
	case reflect.Map:
		if !isMapping(n) {
			return fail("must be a mapping, not %s", kindOf(n))
		}
		for _, kv := range mappingValues(n) {
			if err := walkNumbers(file, kv.Value, t.Elem(), join(field, kv.Key.String()),
				false); err != nil {
				return err
			}
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			return fail("must be a list, not %s", kindOf(n))
		}
		for i, v := range seq.Values {
			if err := walkNumbers(file, v, t.Elem(), fmt.Sprintf("%s[%d]", field, i),
				false); err != nil {
				return err
			}
		}
	}
	return nil
}

func isMapping(n ast.Node) bool {
	return n.Type() == ast.MappingType || n.Type() == ast.MappingValueType
}

// kindOf names what n is, for an error.
func kindOf(n ast.Node) string {
	switch n.Type() {
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	}
	return strings.TrimSpace(n.String())
}

// mappingValues lists a mapping's entries; none for another node.
func mappingValues(n ast.Node) []*ast.MappingValueNode {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}
	}
	return nil
}

// fieldByTag finds the field of struct type t that YAML key name decodes
// into.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		sf := t.Field(i)
		if tag, _, _ := strings.Cut(sf.Tag.Get("yaml"), ","); tag == name {
			return sf, true
		}
	}
	return reflect.StructField{}, false
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}
