package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// ErrInvalid is wrapped by every error about a scenario file's content.
var ErrInvalid = errors.New("invalid scenario")

// Error locates a problem in a scenario file.
type Error struct {
	File   string
	Line   int
	Column int
	// Field is the path of the field at fault, such as "faults[0].at".
	Field string
	Msg   string
}

// Error formats e as "file:line:column: field: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Unwrap makes every Error match ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// LoadFile reads and checks the scenario file at name. Payload files are
// read relative to its folder.
func LoadFile(name string) (*Scenario, error) {
	data, err := readLimited(name)
	if errors.Is(err, ErrPayloadTooLarge) {
		return nil, &Error{File: name, Msg: "the file is larger than 3 MiB: not a scenario"}
	}
	if errors.Is(err, ErrNotRegular) {
		return nil, &Error{File: name, Msg: "not a regular file: not a scenario"}
	}
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	dir := filepath.Dir(name)
	read := func(p string) ([]byte, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return readLimited(p)
	}
	return Parse(name, data, read)
}

// MaxPayload is the largest payload file a scenario may name: the
// provider's largest body, 3 MiB.
const MaxPayload = 3 << 20

// ErrPayloadTooLarge is wrapped by the error for a payload file over
// MaxPayload.
var ErrPayloadTooLarge = errors.New("payload larger than 3 MiB")

// ErrNotRegular is wrapped by the error for a payload or scenario file
// that is a pipe, socket or device rather than a regular file.
var ErrNotRegular = errors.New("not a regular file")

// readLimited reads a payload or scenario file, refusing one over
// MaxPayload rather than reading a huge or endless file into memory. It
// refuses a pipe, socket or device before opening it: opening a FIFO waits
// for a writer, and reading one may never end. A directory fails to read,
// as it always has.
func readLimited(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxPayload+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPayload {
		return nil, ErrPayloadTooLarge
	}
	return b, nil
}

// LoadFS reads and checks the scenario file name of fsys. Payload files
// are read from fsys, relative to the scenario's folder.
func LoadFS(fsys fs.FS, name string) (*Scenario, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	read := func(p string) ([]byte, error) {
		return fs.ReadFile(fsys, path.Join(path.Dir(name), p))
	}
	return Parse(name, data, read)
}

// Parse decodes and checks a scenario file's bytes. file names it in
// errors; readPayload reads a delivery's payload file. Nothing of a file
// with an error is returned.
func Parse(file string, data []byte, readPayload func(string) ([]byte, error)) (*Scenario, error) {
	var s Scenario
	// Some editors start a UTF-8 file with a byte order mark; it is not
	// part of the first field's name.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if err := strictTypes(file, data); err != nil {
		return nil, err
	}
	if err := decode(data, &s); err != nil {
		return nil, yamlError(file, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{File: file, Msg: "the file is empty"}
	}
	s.Path = file
	c := &checker{file: file, data: data, s: &s, readPayload: readPayload}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

// decode decodes data into s, strictly. The YAML decoder panics on some
// malformed input (a tag on a sequence, for one); that is an error in the
// file, not a crash.
func decode(data []byte, s *Scenario) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed YAML the decoder cannot read (%v)", r)
		}
	}()
	return yaml.UnmarshalWithOptions(data, s, yaml.Strict())
}

// yamlError turns a decoding error into an Error with its position.
func yamlError(file string, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return &Error{File: file, Msg: err.Error()}
	}
	e := &Error{File: file, Msg: oneLine(ye.GetMessage())}
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
		e.Line, e.Column = tk.Position.Line, tk.Position.Column
	}
	return e
}

// position finds the line and column of a field given as a YAML path such
// as "$.faults[0].at".
func position(data []byte, field string) (int, int) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return 0, 0
	}
	for p := field; p != "$" && p != ""; p = parent(p) {
		yp, err := yaml.PathString(p)
		if err != nil {
			continue
		}
		node, err := yp.FilterFile(f)
		if err != nil || node == nil {
			continue
		}
		if tk := node.GetToken(); tk != nil && tk.Position != nil {
			return tk.Position.Line, tk.Position.Column
		}
	}
	return 0, 0
}

// keysAt lists the keys the file writes in the mapping at a YAML path
// such as "$.schedule", whatever their values, even none.
func keysAt(data []byte, path string) map[string]bool {
	keys := map[string]bool{}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return keys
	}
	yp, err := yaml.PathString(path)
	if err != nil {
		return keys
	}
	node, err := yp.FilterFile(f)
	if err != nil || node == nil {
		return keys
	}
	var pairs []*ast.MappingValueNode
	switch n := node.(type) {
	case *ast.MappingNode:
		pairs = n.Values
	case *ast.MappingValueNode: // a mapping of one key
		pairs = []*ast.MappingValueNode{n}
	}
	for _, kv := range pairs {
		if tk := kv.Key.GetToken(); tk != nil {
			keys[tk.Value] = true
		}
	}
	return keys
}

// parent drops the last step of a YAML path: "$.a[0].b" -> "$.a[0]".
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i <= 0 {
		return "$"
	}
	return p[:i]
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
