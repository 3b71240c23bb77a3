package scenarios

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEveryShippedScenarioMarshalsToAFileThatReadsBackTheSame(t *testing.T) {
	for _, name := range Shipped() {
		t.Run(name, func(t *testing.T) {
			sc, err := LoadShipped(name)
			require.NoError(t, err)
			data, err := sc.Marshal()
			require.NoError(t, err)
			again, err := Parse("again.yaml", data, func(p string) ([]byte, error) {
				t.Fatalf("the marshalled file reads payload %s", p)
				return nil, nil
			})
			require.NoError(t, err, "%s", data)
			require.Equal(t, sc.Workers, again.Workers)
			require.Equal(t, sc.Faults, again.Faults)
			require.Equal(t, sc.Schedule, again.Schedule)
			require.Equal(t, sc.Expect, again.Expect)
			require.Equal(t, sc.Configs(), again.Configs())
			require.Len(t, again.Arrivals, len(sc.Arrivals))
			for i, a := range sc.Arrivals {
				b := again.Arrivals[i]
				require.Equal(t, string(a.Body), string(b.Body), "arrival %d", i)
				require.Equal(t, a.Signature, b.Signature)
				require.Equal(t, a.At, b.At)
			}
		})
	}
}

func TestAReductionDropsWorkersCopiesDeliveriesAndFaults(t *testing.T) {
	const text = `name: big
app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
workers: 4
deliveries:
  - text: {id: wamid.A, from: "15550000001", body: a}
    copies: 4
  - text: {id: wamid.B, from: "15550000002", body: b}
    copies: 3
    at_ms: 5
strategies: [legacy]
schedule:
  kind: barrier
  barriers:
    - at: claim.mark
    - per_worker: {W1: claim.check, W4: claim.check}
faults:
  - {kind: pause, worker: W3, at: claim.check, duration_ms: 10}
  - {kind: pause, worker: W1, at: claim.check, duration_ms: 10}
  - {kind: error, message: wamid.B, at: message.insert, attempt: 1}
expect:
  legacy: {observe: true}
`
	sc, err := Parse("big.yaml", []byte(text), nil)
	require.NoError(t, err)
	whole := sc.Whole()
	require.Equal(t, Reduction{Workers: 4, Copies: []int{4, 3},
		Faults: []bool{true, true, true}}, whole)

	r := whole.Clone()
	r.Workers, r.Copies[0], r.Copies[1], r.Faults[2] = 2, 2, 0, false
	small, err := sc.Reduce(r)
	require.NoError(t, err)
	require.Equal(t, 4, sc.Workers, "the original is left alone")
	require.Len(t, sc.Arrivals, 7)

	require.Equal(t, 2, small.Workers)
	require.Len(t, small.Deliveries, 1)
	require.Len(t, small.Arrivals, 2)
	for _, a := range small.Arrivals {
		require.Equal(t, 0, a.Delivery)
		require.Equal(t, "wamid.A", a.Parsed.Messages[0].ID)
	}
	// W3's pause goes with W3; the error was dropped; W1's pause stays.
	require.Len(t, small.Faults, 1)
	require.Equal(t, "W1", small.Faults[0].Worker)
	require.Equal(t, []string{"W1", "W2"}, small.Schedule.Barriers[0].Workers)
	require.Equal(t, map[string]string{"W1": "claim.check"}, small.Schedule.Barriers[1].PerWorker)

	data, err := small.Marshal()
	require.NoError(t, err)
	again, err := Parse("small.yaml", data, nil)
	require.NoError(t, err, "%s", data)
	require.Equal(t, small.Schedule, again.Schedule)
	require.Len(t, again.Arrivals, 2)

	for _, bad := range []Reduction{
		{Workers: 0, Copies: []int{1, 1}, Faults: []bool{true, true, true}},
		{Workers: 5, Copies: []int{1, 1}, Faults: []bool{true, true, true}},
		{Workers: 2, Copies: []int{0, 0}, Faults: []bool{true, true, true}},
		{Workers: 2, Copies: []int{5, 1}, Faults: []bool{true, true, true}},
		{Workers: 2, Copies: []int{1}, Faults: []bool{true, true, true}},
	} {
		_, err := sc.Reduce(bad)
		require.Error(t, err, "%+v", bad)
	}
}

func TestAScriptLosesTheStepsOfDroppedWorkers(t *testing.T) {
	const text = `app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
workers: 3
deliveries:
  - text: {id: wamid.A, from: "15550000001", body: a}
    copies: 3
strategies: [setnx]
schedule:
  kind: script
  steps: ["W1:job.fetch", "W3*2", "W2", "W3:claim.lookup"]
expect:
  setnx: {observe: true}
`
	sc, err := Parse("s.yaml", []byte(text), nil)
	require.NoError(t, err)
	r := sc.Whole()
	r.Workers = 2
	small, err := sc.Reduce(r)
	require.NoError(t, err)
	require.Equal(t, []string{"W1:job.fetch", "W2"}, small.Schedule.Steps)
}

func TestBodiesThatABlockCannotHoldAreWrittenQuotedAndReadBackExactly(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "single-text.json"))
	require.NoError(t, err)
	for name, b := range map[string][]byte{
		"leading spaces":   append([]byte("   "), body...),
		"carriage returns": bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n")),
		"no final newline": bytes.TrimRight(body, "\n"),
		"trailing spaces":  append(bytes.TrimRight(body, "\n"), []byte("  \n\n")...),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "p.json"), b, 0o644))
			path := filepath.Join(dir, "s.yaml")
			require.NoError(t, os.WriteFile(path, []byte(`app_secret: s
inboxes: [{phone_number_id: "200000000000001"}]
deliveries: [{payload: p.json}]
strategies: [setnx]
`), 0o644))
			sc, err := LoadFile(path)
			require.NoError(t, err)
			data, err := sc.Marshal()
			require.NoError(t, err)
			again, err := Parse("again.yaml", data, nil)
			require.NoError(t, err, "%s", data)
			require.Equal(t, string(b), string(again.Arrivals[0].Body))
			require.Equal(t, sc.Arrivals[0].Signature, again.Arrivals[0].Signature)
		})
	}
}
