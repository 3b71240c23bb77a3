package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/dedupsim/dedupsim/core/meta"
)

// frame is an open object or array of the JSON being rewritten.
type frame struct {
	object bool
	// n counts the keys or elements written so far.
	n int
	// key is the object's current key; wantKey says the next string is
	// a key.
	key     string
	wantKey bool
}

// rewriter copies a JSON text token by token, scrubbing values by the key
// they stand under, in the original order.
type rewriter struct {
	s     *Scrubber
	out   bytes.Buffer
	stack []*frame
}

// rewrite returns body with every value scrubbed.
func (s *Scrubber) rewrite(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	rw := &rewriter{s: s}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return meta.EscapeNonASCII(rw.out.Bytes()), nil
		}
		if err != nil {
			return nil, err
		}
		rw.token(tok)
	}
}

func (rw *rewriter) token(tok json.Token) {
	top := rw.top()
	switch t := tok.(type) {
	case json.Delim:
		rw.delim(t)
	case string:
		if top != nil && top.object && top.wantKey {
			if top.n > 0 {
				rw.out.WriteByte(',')
			}
			rw.out.Write(quote(t))
			rw.out.WriteByte(':')
			top.key, top.wantKey = t, false
			top.n++
			return
		}
		rw.value(quote(rw.s.value(rw.field(), t)))
	case json.Number:
		if kinds[rw.field()] == coordinate {
			t = "0"
		}
		rw.value([]byte(t))
	case bool:
		rw.value([]byte(map[bool]string{true: "true", false: "false"}[t]))
	case nil:
		rw.value([]byte("null"))
	}
}

func (rw *rewriter) delim(d json.Delim) {
	switch d {
	case '{', '[':
		rw.beforeValue()
		rw.out.WriteByte(byte(d))
		rw.stack = append(rw.stack, &frame{object: d == '{', wantKey: d == '{'})
	case '}', ']':
		rw.stack = rw.stack[:len(rw.stack)-1]
		rw.out.WriteByte(byte(d))
		rw.afterValue()
	}
}

// value writes a scalar in its place.
func (rw *rewriter) value(b []byte) {
	rw.beforeValue()
	rw.out.Write(b)
	rw.afterValue()
}

func (rw *rewriter) beforeValue() {
	if top := rw.top(); top != nil && !top.object {
		if top.n > 0 {
			rw.out.WriteByte(',')
		}
		top.n++
	}
}

func (rw *rewriter) afterValue() {
	if top := rw.top(); top != nil && top.object {
		top.wantKey = true
	}
}

func (rw *rewriter) top() *frame {
	if len(rw.stack) == 0 {
		return nil
	}
	return rw.stack[len(rw.stack)-1]
}

// field is the key the current value stands under: the nearest object's
// current key, through any arrays.
func (rw *rewriter) field() string {
	for i := len(rw.stack) - 1; i >= 0; i-- {
		if rw.stack[i].object {
			return rw.stack[i].key
		}
	}
	return ""
}

// quote writes s as a JSON string, without escaping HTML characters.
func quote(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
