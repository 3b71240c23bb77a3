package scenarios

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"

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
		if err := walkNumbers(file, doc.Body, reflect.TypeFor[Scenario](), "", ""); err != nil {
			return err
		}
	}
	return nil
}

func walkNumbers(file string, n ast.Node, t reflect.Type, field string, tag string) error {
	positive := strings.Contains(tag, "positive")
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
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		v, ok := n.(*ast.IntegerNode)
		if !ok {
			return fail("must be a whole number, not %s", kindOf(n))
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
		var above bool
		switch x := v.Value.(type) {
		case int64:
			above = x > tagLimit(tag)
		case uint64:
			above = x > uint64(tagLimit(tag))
		}
		if tagLimit(tag) > 0 && above {
			return fail("must be at most %d, not %v", tagLimit(tag), v.Value)
		}
	case reflect.String:
		switch n.Type() {
		case ast.MappingType, ast.MappingValueType, ast.SequenceType:
			return fail("must be text, not %s", kindOf(n))
		}
	case reflect.Bool:
		if n.Type() != ast.BoolType {
			return fail("must be true or false, not %s", kindOf(n))
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
				sf.Tag.Get("check"))
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
				""); err != nil {
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
				""); err != nil {
				return err
			}
		}
	}
	return nil
}

func isMapping(n ast.Node) bool {
	return n.Type() == ast.MappingType || n.Type() == ast.MappingValueType
}

// maxMS bounds the fields tagged check:"ms": a week, past any run even
// with the injected clock jumping over a day's claim TTL, and far from
// the overflow of a duration.
const maxMS = 7 * 24 * 3_600_000

// tagLimit is the upper bound a check tag sets, or 0 for none.
func tagLimit(tag string) int64 {
	if strings.Contains(tag, "ms") {
		return maxMS
	}
	return 0
}

// kindOf names what n is, for an error: a mapping, a list, or the value
// as written, quoted and cut short, so that junk is not echoed whole.
func kindOf(n ast.Node) string {
	switch n.Type() {
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	}
	v := strings.TrimSpace(n.String())
	if r := []rune(v); len(r) > 40 {
		v = string(r[:40]) + "…"
	}
	if strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(v)
	}
	return v
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
