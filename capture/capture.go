// Package capture reads and writes delivery captures: files of provider
// POSTs, one a line, each with when it arrived, its headers and its body's
// exact bytes. A capture replays a burst against the ingest endpoint with
// its recorded timing (Send), and can be scrubbed of personal details
// before it is shared (Scrub). docs/capture-format.md describes the format.
package capture

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dedupsim/dedupsim/core/meta"
)

// ErrFormat is wrapped by every error about a capture line.
var ErrFormat = errors.New("bad capture line")

// Delivery is one recorded POST.
type Delivery struct {
	// Line is the line the delivery was read from, from 1; 0 when it was
	// not read from a file.
	Line int
	// At is when the POST arrived, from the start of the capture.
	At time.Duration
	// Header holds the recorded headers, by their recorded names.
	Header map[string]string
	// Body is the exact bytes of the body.
	Body []byte
}

// Signature returns the recorded X-Hub-Signature-256 header, whatever
// the case of its name, and "" when there is none.
func (d Delivery) Signature() string {
	return d.Header[headerKey(d.Header, meta.SignatureHeader)]
}

// SetSignature replaces the signature header; "" removes it.
func (d *Delivery) SetSignature(sig string) {
	h := make(map[string]string, len(d.Header)+1)
	for k, v := range d.Header {
		h[k] = v
	}
	delete(h, headerKey(h, meta.SignatureHeader))
	if sig != "" {
		h[meta.SignatureHeader] = sig
	}
	d.Header = h
}

// headerKey finds the name name is recorded under, ignoring case; name
// itself when it is not recorded.
func headerKey(h map[string]string, name string) string {
	want := http.CanonicalHeaderKey(name)
	for k := range h {
		if http.CanonicalHeaderKey(k) == want {
			return k
		}
	}
	return name
}

// line is a capture line as written.
type line struct {
	AtMS       *float64          `json:"at_ms"`
	Headers    map[string]string `json:"headers"`
	Body       json.RawMessage   `json:"body"`
	BodyBase64 *string           `json:"body_base64"`
}

// ReadFile reads the capture file name.
func ReadFile(name string) ([]Delivery, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read capture: %w", err)
	}
	defer f.Close()
	ds, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("read capture %s: %w", name, err)
	}
	return ds, nil
}

// Read reads a capture: one delivery a line, blank lines skipped. The
// deliveries come back in arrival order, lines with the same time in file
// order.
func Read(r io.Reader) ([]Delivery, error) {
	br := bufio.NewReader(r)
	var out []Delivery
	for n := 1; ; n++ {
		text, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(text)) > 0 {
			d, perr := parseLine(text)
			if perr != nil {
				return nil, fmt.Errorf("line %d: %w", n, perr)
			}
			d.Line = n
			out = append(out, d)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out, nil
}

// parseLine decodes one line. The body's bytes are taken exactly as they
// stand in the line: the provider signed them, and re-encoding would
// change them.
func parseLine(text []byte) (Delivery, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	var l line
	if err := dec.Decode(&l); err != nil {
		return Delivery{}, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Delivery{}, fmt.Errorf("%w: text after the object", ErrFormat)
	}
	at, err := readAt(l.AtMS)
	if err != nil {
		return Delivery{}, err
	}
	body, err := readBody(l)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{At: at, Header: l.Headers, Body: body}, nil
}

func readAt(ms *float64) (time.Duration, error) {
	switch {
	case ms == nil:
		return 0, fmt.Errorf("%w: at_ms is required", ErrFormat)
	case *ms < 0 || math.IsNaN(*ms) || *ms > maxAtMS:
		return 0, fmt.Errorf("%w: at_ms %v is out of range", ErrFormat, *ms)
	}
	return time.Duration(*ms * float64(time.Millisecond)), nil
}

// maxAtMS bounds at_ms: about 30 days.
const maxAtMS = 30 * 24 * 3600 * 1000

func readBody(l line) ([]byte, error) {
	switch {
	case l.Body != nil && l.BodyBase64 != nil:
		return nil, fmt.Errorf("%w: give body or body_base64, not both", ErrFormat)
	case l.Body != nil:
		return []byte(l.Body), nil
	case l.BodyBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*l.BodyBase64)
		if err != nil {
			return nil, fmt.Errorf("%w: body_base64: %w", ErrFormat, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: body or body_base64 is required", ErrFormat)
}

// Write writes ds as a capture, one line each. A body goes in "body" as
// it stands when it is JSON that reads back byte for byte from a line
// (valid UTF-8, no line breaks, no whitespace around it); any other body
// goes in "body_base64".
func Write(w io.Writer, ds []Delivery) error {
	bw := bufio.NewWriter(w)
	for _, d := range ds {
		if err := writeLine(bw, d); err != nil {
			return fmt.Errorf("write capture: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write capture: %w", err)
	}
	return nil
}

func writeLine(w *bufio.Writer, d Delivery) error {
	headers, err := json.Marshal(d.Header)
	if err != nil {
		return err
	}
	ms := float64(d.At) / float64(time.Millisecond)
	fmt.Fprintf(w, `{"at_ms":%s,"headers":%s,`, strconv.FormatFloat(ms, 'f', -1, 64),
		headers)
	if Verbatim(d.Body) {
		fmt.Fprintf(w, `"body":%s}`+"\n", d.Body)
		return nil
	}
	fmt.Fprintf(w, `"body_base64":"%s"}`+"\n", base64.StdEncoding.EncodeToString(d.Body))
	return nil
}

// Verbatim reports whether body can stand as it is in a line's "body":
// JSON, valid UTF-8, without line breaks or surrounding whitespace.
func Verbatim(body []byte) bool {
	return json.Valid(body) && utf8.Valid(body) &&
		!bytes.ContainsAny(body, "\r\n") &&
		len(bytes.TrimSpace(body)) == len(body)
}
