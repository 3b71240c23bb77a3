package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const good = `name: t
app_secret: s3cret
inboxes:
  - phone_number_id: "200000000000001"
subscribers:
  - name: crm
    secret: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=
workers: 2
deliveries:
  - payload: single-text.json
    copies: 2
strategies: [legacy, setnx]
schedule:
  kind: barrier
  barriers:
    - at: claim.mark
expect:
  legacy: {messages: 2, broken: [no-duplicate]}
`

// write puts a scenario beside the test payloads and returns its path.
func write(tb testing.TB, text string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, name := range []string{"single-text.json", "truncated.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(tb, err)
		require.NoError(tb, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	path := filepath.Join(dir, "scenario.yaml")
	require.NoError(tb, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// loadErr loads text and returns its error as an *Error.
func loadErr(tb testing.TB, text string) *Error {
	tb.Helper()
	_, err := LoadFile(write(tb, text))
	require.Error(tb, err)
	require.ErrorIs(tb, err, ErrInvalid)
	var e *Error
	require.True(tb, errors.As(err, &e), "error %v is not an *Error", err)
	require.NotContains(tb, e.Error(), "\n", "errors are one line")
	return e
}

func TestAGoodScenarioLoadsWithDefaultsFilled(t *testing.T) {
	sc, err := LoadFile(write(t, good))
	require.NoError(t, err)
	require.Equal(t, 1, sc.Runs)
	require.Equal(t, 30000, sc.TimeoutMS)
	require.Equal(t, "/webhooks/crm", sc.Subscribers[0].Path)
	require.Len(t, sc.Arrivals, 2)
	require.Equal(t, []string{"W1", "W2"}, sc.Schedule.Barriers[0].Workers)
	require.Len(t, sc.Arrivals[0].Parsed.Messages, 1)
}

func TestAByteOrderMarkIsNotPartOfTheFirstField(t *testing.T) {
	sc, err := LoadFile(write(t, "\uFEFF"+good))
	require.NoError(t, err)
	require.Equal(t, 1, sc.Runs)
}

func TestAMisspeltFieldIsAnErrorWithItsLine(t *testing.T) {
	e := loadErr(t, strings.Replace(good, "workers: 2", "worker: 2", 1))
	require.Equal(t, 8, e.Line)
	require.Contains(t, e.Msg, `unknown field "worker"`)
}

func TestMalformedYAMLIsAnErrorWithItsLine(t *testing.T) {
	e := loadErr(t, strings.Replace(good, "strategies: [legacy, setnx]",
		"strategies: [legacy, setnx", 1))
	require.Positive(t, e.Line)
}

func TestAMalformedPayloadNamesTheDeliveryField(t *testing.T) {
	e := loadErr(t, strings.Replace(good, "single-text.json", "truncated.json", 1))
	require.Equal(t, "deliveries[0].payload", e.Field)
	require.Equal(t, 10, e.Line)
	require.Contains(t, e.Msg, "bad payload")
}

func TestAMissingPayloadFileIsAnError(t *testing.T) {
	e := loadErr(t, strings.Replace(good, "single-text.json", "nope.json", 1))
	require.Equal(t, "deliveries[0].payload", e.Field)
	require.Contains(t, e.Msg, "cannot read payload nope.json")
}

func TestAnUnknownCheckpointIsAnError(t *testing.T) {
	e := loadErr(t, strings.Replace(good, "at: claim.mark", "at: claim.mrak", 1))
	require.Equal(t, "schedule.barriers[0].at", e.Field)
	require.Equal(t, 16, e.Line)
	require.Contains(t, e.Msg, `unknown checkpoint "claim.mrak"`)
}

func TestACheckpointAStrategyNeverPassesIsAnError(t *testing.T) {
	e := loadErr(t, strings.Replace(good, "at: claim.mark", "at: claim.check", 1))
	require.Contains(t, e.Msg, "strategy setnx never passes checkpoint claim.check")
}

func TestAnUnknownStrategyIsAnError(t *testing.T) {
	e := loadErr(t, strings.Replace(good, "[legacy, setnx]", "[legacy, setnxx]", 1))
	require.Equal(t, "strategies[1]", e.Field)
	require.Contains(t, e.Msg, `unknown strategy "setnxx"`)
}

func TestAnUnknownWorkerIsAnError(t *testing.T) {
	e := loadErr(t, good+"faults:\n  - {kind: pause, worker: W3, at: tx.commit, duration_ms: 5}\n")
	require.Equal(t, "faults[0].worker", e.Field)
	require.Contains(t, e.Msg, "W1 to W2")
}

func TestAnExpectationForAStrategyNotRunIsAnError(t *testing.T) {
	e := loadErr(t, good+"  none: {messages: 2}\n")
	require.Equal(t, "expect.none", e.Field)
}

func TestAnUnknownPropertyIsAnError(t *testing.T) {
	e := loadErr(t, strings.Replace(good, "[no-duplicate]", "[no-dupes]", 1))
	require.Equal(t, "expect.legacy.broken[0]", e.Field)
}

func TestABadSubscriberSecretIsAnError(t *testing.T) {
	e := loadErr(t, strings.Replace(good, "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=", "hunter2", 1))
	require.Equal(t, "subscribers[0].secret", e.Field)
}

func TestAnEmptyFileIsAnError(t *testing.T) {
	e := loadErr(t, "\n")
	require.Contains(t, e.Msg, "empty")
}

func TestEveryShippedScenarioLoads(t *testing.T) {
	names := Shipped()
	require.NotEmpty(t, names)
	for _, name := range names {
		sc, err := LoadShipped(name)
		require.NoError(t, err, name)
		require.NotEmpty(t, sc.Description, name)
		for _, cfg := range sc.Configs() {
			_, named := sc.Expect[cfg.Name()]
			_, byStrategy := sc.Expect[cfg.Strategy]
			require.True(t, named || byStrategy, "%s: %s has no expectation",
				name, cfg.Name())
		}
	}
}

func TestAnUnknownShippedNameSaysWhatIsShipped(t *testing.T) {
	_, err := LoadShipped("c99")
	require.ErrorIs(t, err, ErrNotShipped)
	require.Contains(t, err.Error(), "c01-original-race")
}

func TestShippedShortNamesAreUnique(t *testing.T) {
	seen := map[string]string{}
	for _, name := range Shipped() {
		short := ShortName(name)
		require.NotContains(t, seen, short, "%s and %s share the matrix column %s",
			seen[short], name, short)
		seen[short] = name
	}
}

func TestAScenarioThatRoutesNoMessageIsAnError(t *testing.T) {
	e := loadErr(t, strings.Replace(good, `"200000000000001"`, `"999"`, 1))
	require.Equal(t, "deliveries", e.Field)
	require.Contains(t, e.Msg, "the runs would check nothing")
}

func TestExpectingWebhooksWithoutSubscribersIsAnError(t *testing.T) {
	text := strings.Replace(good, "subscribers:\n  - name: crm\n"+
		"    secret: whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=\n", "", 1)
	e := loadErr(t, strings.Replace(text, "{messages: 2,", "{messages: 2, webhooks: 2,", 1))
	require.Equal(t, "expect.legacy.webhooks", e.Field)
}

func TestATagOnASequenceIsAnErrorInTheFileNotACrash(t *testing.T) {
	data := []byte("subscribers:\n- name: \ndeliveries:\nexpect:\n  0: \n    outcomes: !00\n" +
		"00000000000000000000000000000000000000")
	_, err := Parse("tagged.yaml", data, nil)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "tagged.yaml:7:1: expect.0.outcomes: must be a list")
}

func TestNumbersMustBeWholeAndFieldsWithDefaultsAtLeastOne(t *testing.T) {
	for _, c := range []struct {
		from, to, field, msg string
		line                 int
	}{
		{"workers: 2", `workers: "2"`, "workers", `must be a whole number, not "2"`, 8},
		{"workers: 2", "workers: 2.5", "workers", "must be a whole number, not 2.5", 8},
		{"workers: 2", "workers: 0", "workers", "must be 1 or more, not 0", 8},
		{"copies: 2", "copies: 0", "deliveries[0].copies", "must be 1 or more, not 0", 11},
		{"copies: 2", "copies: two", "deliveries[0].copies", "must be a whole number, not two", 11},
		{"legacy: {messages: 2,", "legacy: {messages: 1.5,", "expect.legacy.messages",
			"must be a whole number, not 1.5", 18},
	} {
		t.Run(c.to, func(t *testing.T) {
			text := strings.Replace(good, c.from, c.to, 1)
			require.NotEqual(t, good, text)
			e := loadErr(t, text)
			require.Equal(t, c.field, e.Field)
			require.Contains(t, e.Msg, c.msg)
			require.Equal(t, c.line, e.Line, e.Error())
		})
	}
	// Zero where zero means something is fine.
	_, err := LoadFile(write(t, strings.Replace(good, "copies: 2", "copies: 2\n    gap_ms: 0", 1)))
	require.NoError(t, err)
}

func TestDurationsPastAWeekAndHugeFilesAreRefused(t *testing.T) {
	e := loadErr(t, strings.Replace(good, "copies: 2", "copies: 2\n    gap_ms: 9223372036855", 1))
	require.Equal(t, "deliveries[0].gap_ms", e.Field)
	require.Contains(t, e.Msg, "must be at most 604800000")

	big := filepath.Join(t.TempDir(), "big.yaml")
	require.NoError(t, os.WriteFile(big, make([]byte, MaxPayload+1), 0o644))
	_, err := LoadFile(big)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "larger than 3 MiB")

	e = loadErr(t, strings.Replace(good, "workers: 2", "workers: \"\\u0007\\u0007\"", 1))
	require.Contains(t, e.Msg, `must be a whole number, not "\a\a"`)
}

// loadPromptly loads the scenario at path, failing the test if loading
// does not return within a few seconds.
func loadPromptly(t *testing.T, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := LoadFile(path)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("loading %s did not return", path)
		return nil
	}
}

func TestAFIFOAsPayloadOrScenarioIsRefusedWithoutWaitingForAWriter(t *testing.T) {
	path := write(t, strings.Replace(good, "single-text.json", "fifo.json", 1))
	require.NoError(t, syscall.Mkfifo(filepath.Join(filepath.Dir(path), "fifo.json"), 0o644))
	err := loadPromptly(t, path)
	require.ErrorIs(t, err, ErrInvalid)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "deliveries[0].payload", e.Field)
	require.Contains(t, e.Msg, "cannot read payload fifo.json")
	require.Contains(t, e.Msg, "fifo.json: not a regular file")

	fifo := filepath.Join(t.TempDir(), "scenario.yaml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	err = loadPromptly(t, fifo)
	require.ErrorIs(t, err, ErrInvalid)
	require.EqualError(t, err, fifo+": not a regular file: not a scenario")
}

func TestADirectoryAsPayloadOrScenarioIsStillAnError(t *testing.T) {
	path := write(t, strings.Replace(good, "single-text.json", "dir.json", 1))
	require.NoError(t, os.Mkdir(filepath.Join(filepath.Dir(path), "dir.json"), 0o755))
	_, err := LoadFile(path)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "deliveries[0].payload", e.Field)
	require.Contains(t, e.Msg, "is a directory")

	_, err = LoadFile(t.TempDir())
	require.ErrorContains(t, err, "is a directory")
}
