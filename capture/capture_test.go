package capture_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/capture"
	"github.com/dedupsim/dedupsim/core/meta"
)

const burstSecret = "synthetic-app-secret-0001"

// burst reads the example capture.
func burst(tb testing.TB) []capture.Delivery {
	tb.Helper()
	ds, err := capture.ReadFile("testdata/burst-example.jsonl")
	require.NoError(tb, err)
	return ds
}

func TestTheBurstCaptureKeepsEveryBodyByteForByte(t *testing.T) {
	ds := burst(t)
	require.Len(t, ds, 5)
	var at []time.Duration
	for _, d := range ds {
		require.NoError(t, meta.Verify(burstSecret, d.Body, d.Signature()),
			"line %d", d.Line)
		at = append(at, d.At)
	}
	require.Equal(t, []time.Duration{0, 25 * time.Millisecond, 40 * time.Millisecond,
		600 * time.Millisecond, 1500 * time.Millisecond}, at)
	require.Contains(t, string(ds[1].Body), `Voc\u00ea abre amanh\u00e3?`)
	require.Equal(t, ds[0].Body, ds[2].Body)
}

func TestABodyIsTakenAsItStandsInItsLine(t *testing.T) {
	body := `{ "object" : "x",	"a": "\u00e9\/" }`
	ds, err := capture.Read(strings.NewReader(
		`{"at_ms": 1.5, "headers": {}, "body": ` + body + " }\n"))
	require.NoError(t, err)
	require.Equal(t, body, string(ds[0].Body))
	require.Equal(t, 1500*time.Microsecond, ds[0].At)
}

func TestABase64BodyCarriesBytesThatAreNotJSON(t *testing.T) {
	ds, err := capture.Read(strings.NewReader(
		`{"at_ms":0,"headers":{},"body_base64":"eyJvYmplY3QiOg=="}`))
	require.NoError(t, err)
	require.Equal(t, `{"object":`, string(ds[0].Body))
	require.Equal(t, 1, ds[0].Line)
}

func TestBadLinesAreErrorsWithTheirLineNumber(t *testing.T) {
	for name, text := range map[string]string{
		"no time":          `{"headers":{},"body":{}}`,
		"a negative time":  `{"at_ms":-1,"headers":{},"body":{}}`,
		"no body":          `{"at_ms":0,"headers":{}}`,
		"both bodies":      `{"at_ms":0,"body":{},"body_base64":""}`,
		"bad base64":       `{"at_ms":0,"body_base64":"***"}`,
		"an unknown field": `{"at_ms":0,"body":{},"bodee":1}`,
		"text after it":    `{"at_ms":0,"body":{}} {}`,
		"not JSON":         `at_ms=0`,
		"a header list":    `{"at_ms":0,"headers":{"a":["b"]},"body":{}}`,
	} {
		t.Run("with "+name, func(t *testing.T) {
			_, err := capture.Read(strings.NewReader("\n" + text + "\n"))
			require.ErrorIs(t, err, capture.ErrFormat)
			require.Contains(t, err.Error(), "line 2: ")
		})
	}
}

func TestWriteKeepsJSONBodiesInPlaceAndEncodesTheRest(t *testing.T) {
	ds := []capture.Delivery{
		{At: 0, Header: map[string]string{"A": "1"}, Body: []byte(`{"a": "\u00e9"}`)},
		{At: 2 * time.Millisecond, Body: []byte("{\n  \"a\": 1\n}")},
		{At: 3 * time.Millisecond, Body: []byte(`{"a":`)},
		{At: 4 * time.Millisecond, Body: []byte(" {}")},
	}
	var buf bytes.Buffer
	require.NoError(t, capture.Write(&buf, ds))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 4)
	require.Equal(t, `{"at_ms":0,"headers":{"A":"1"},"body":{"a": "\u00e9"}}`, lines[0])
	for _, l := range lines[1:] {
		require.Contains(t, l, `"body_base64":`)
	}

	back, err := capture.Read(&buf)
	require.NoError(t, err)
	for i := range ds {
		require.Equal(t, ds[i].Body, back[i].Body)
		require.Equal(t, ds[i].At, back[i].At)
	}
}

func TestDeliveriesComeBackInArrivalOrder(t *testing.T) {
	ds, err := capture.Read(strings.NewReader(`{"at_ms":5,"body":1}
{"at_ms":1,"body":2}
{"at_ms":5,"body":3}
`))
	require.NoError(t, err)
	var lines []int
	for _, d := range ds {
		lines = append(lines, d.Line)
	}
	require.Equal(t, []int{2, 1, 3}, lines)
}

func TestResignKeepsEachRecordedVerdict(t *testing.T) {
	ds := burst(t)
	ds[1].SetSignature(meta.Sign("another", ds[1].Body))
	ds[2].SetSignature("")
	out := capture.Resign(ds, "new", burstSecret)
	require.NoError(t, meta.Verify("new", out[0].Body, out[0].Signature()))
	require.Error(t, meta.Verify("new", out[1].Body, out[1].Signature()))
	require.Empty(t, out[2].Signature())
	require.Equal(t, []int{2, 3}, capture.Unverified(ds, burstSecret))
}

// recorder is a server that records what it receives.
type recorder struct {
	mu     sync.Mutex
	bodies []string
	hosts  []string
	sigs   []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, string(b))
	r.hosts = append(r.hosts, req.Host)
	r.sigs = append(r.sigs, req.Header.Get(meta.SignatureHeader))
	w.WriteHeader(http.StatusAccepted)
}

func TestSendPostsEveryDeliveryWithItsBytesAndHeaders(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	ds := burst(t)
	ds[0].Header["Host"] = "provider.example"

	results, err := capture.Send(t.Context(), srv.Client(), srv.URL, ds, 100)
	require.NoError(t, err)
	require.Len(t, results, 5)
	for i, r := range results {
		require.Equal(t, http.StatusAccepted, r.Status)
		require.Equal(t, ds[i].Line, r.Line)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, d := range ds {
		require.Contains(t, rec.bodies, string(d.Body))
		require.Contains(t, rec.sigs, d.Signature())
	}
	require.NotContains(t, rec.hosts, "provider.example")
}

func TestSendRefusesASpeedThatIsNotPositive(t *testing.T) {
	_, err := capture.Send(t.Context(), http.DefaultClient, "http://127.0.0.1:1",
		burst(t), 0)
	require.Error(t, err)
}
