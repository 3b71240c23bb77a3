package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/capture"
	"github.com/dedupsim/dedupsim/core/meta"
)

const (
	burstFile   = "testdata/burst-example.jsonl"
	burstSecret = "synthetic-app-secret-0001"
)

func TestReplayingTheBurstGivesTwoMessagesAndTwoWebhooks(t *testing.T) {
	code, out, errOut := call(t, "replay", burstFile, "--app-secret", burstSecret,
		"--expect-messages", "1", "--expect-webhooks", "1")
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "5 of 5 requests answered 200")
	require.Contains(t, out, "total: 2 messages, 2 webhooks, 2 distinct webhook ids")
	require.Contains(t, out, "statuses 0 applied and 1 ignored")
	require.Contains(t, out, "verdict: pass")
	require.Contains(t, out, "expectation: held")
	require.Regexp(t, `QgA=#0\s+3\s+1\s+1\n`, out, "three copies, one row, one webhook")
}

func TestAHeldLegacyGuardDuplicatesTheBurstsOverlappingCopies(t *testing.T) {
	code, out, errOut := call(t, "replay", "--strategy", "legacy", "--pause-at",
		"claim.mark", "--pause", "300ms", "--app-secret", burstSecret,
		"--expect-messages", "1", burstFile)
	require.Equal(t, ExitNotHeld, code, errOut)
	require.Regexp(t, `QgA=#0\s+3\s+2\s+2\n`, out)
	require.Contains(t, out, "no-duplicate:")
	require.Contains(t, out, "expectation: not held")
}

func TestReplayNeedsASecretAndOneCapture(t *testing.T) {
	code, _, errOut := call(t, "replay", burstFile)
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "give -app-secret")
	code, _, _ = call(t, "replay", "--app-secret", "s")
	require.Equal(t, ExitBadInput, code)
	code, _, errOut = call(t, "replay", "--app-secret", "s", "--speed", "0", burstFile)
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "-speed must be positive")
	code, _, errOut = call(t, "replay", "--secret", "s", "--strategy", "db-unique",
		"--pause-at", "claim.mark", burstFile)
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "never passes")
}

func TestReplayNamesTheLinesItsAppSecretDoesNotVerify(t *testing.T) {
	code, out, errOut := call(t, "replay", "--app-secret", "wrong", burstFile)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "note: line 1's signature does not verify")
	require.Contains(t, out, "0 of 5 requests answered 200, 5 401")
	require.Contains(t, out, "refused: bad_signature 5")
}

// summaryLines keeps the lines of a replay's output that say what became
// of the messages, with the message ids taken out, sorted: scrubbed ids
// sort differently.
func summaryLines(out string) []string {
	ids := regexp.MustCompile(`wamid\.\S+`)
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "replay ") {
			continue // names the file
		}
		keep = append(keep, ids.ReplaceAllString(l, "ID"))
	}
	slices.Sort(keep)
	return keep
}

func TestAScrubbedCaptureReplaysToTheSameVerdicts(t *testing.T) {
	out := filepath.Join(t.TempDir(), "scrubbed.jsonl")
	code, stdout, errOut := call(t, "scrub", burstFile, out, "--secret", "new-secret",
		"--app-secret", burstSecret, "--key", "k")
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, stdout, "scrubbed 5 deliveries")

	b, err := os.ReadFile(out)
	require.NoError(t, err)
	for _, v := range []string{"15550000002", "15550000003", "Test User Alpha",
		"200000000000001", "100000000000001", "QgA=", "QwA=", "call me back"} {
		require.NotContains(t, string(b), v)
	}
	ds, err := capture.ReadFile(out)
	require.NoError(t, err)
	for _, d := range ds {
		require.NoError(t, meta.Verify("new-secret", d.Body, d.Signature()))
	}

	code, original, errOut := call(t, "replay", "--app-secret", burstSecret, burstFile)
	require.Equal(t, ExitOK, code, errOut)
	code, replayed, errOut := call(t, "replay", "--app-secret", "new-secret", out)
	require.Equal(t, ExitOK, code, errOut)
	require.Equal(t, summaryLines(original), summaryLines(replayed))
}

func TestScrubNeedsASecretAndTwoFiles(t *testing.T) {
	code, _, errOut := call(t, "scrub", burstFile, filepath.Join(t.TempDir(), "o"))
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "-secret is required")
	code, _, _ = call(t, "scrub", "--secret", "s", burstFile)
	require.Equal(t, ExitBadInput, code)
	code, _, errOut = call(t, "scrub", "--secret", "s", burstFile, burstFile)
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "another file")
}

// syncBuffer is a buffer safe to write from one goroutine and read from
// another.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := ln.Addr().String()
	require.NoError(tb, ln.Close())
	return addr
}

func TestServeAcceptsDeliveriesAndSaysWhatBecameOfThemOnCtrlC(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--addr", addr, "--app-secret", burstSecret,
			"--inbox", "200000000000001"}, &out, &errOut)
	}()
	require.Eventually(t, func() bool {
		return strings.Contains(out.String(), "listening on")
	}, 30*time.Second, 10*time.Millisecond, errOut.String())

	ds, err := capture.ReadFile(burstFile)
	require.NoError(t, err)
	results, err := capture.Send(t.Context(), http.DefaultClient, "http://"+addr+"/",
		ds, 100)
	require.NoError(t, err)
	for _, r := range results {
		require.Equal(t, http.StatusOK, r.Status)
	}
	cancel()
	select {
	case code := <-done:
		require.Equal(t, ExitOK, code, errOut.String())
	case <-time.After(30 * time.Second):
		require.FailNow(t, "serve did not stop")
	}
	require.Contains(t, out.String(), "total: 2 messages, 2 webhooks, 2 distinct")
	require.Contains(t, out.String(), "verdict: pass")
}

func TestServeNeedsASecretAnInboxAndALoopbackAddress(t *testing.T) {
	code, _, errOut := call(t, "serve", "--inbox", "1")
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "-app-secret is required")
	code, _, errOut = call(t, "serve", "--app-secret", "s")
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "-inbox is required")
	code, _, errOut = call(t, "serve", "--app-secret", "s", "--inbox", "1",
		"--addr", "0.0.0.0:8080")
	require.Equal(t, ExitBadInput, code)
	require.Contains(t, errOut, "not a loopback address")
}

func TestHelpTeachesServeReplayAndScrub(t *testing.T) {
	for _, cmd := range []string{"serve", "replay", "scrub"} {
		code, out, _ := call(t, "help", cmd)
		require.Equal(t, ExitOK, code)
		require.Contains(t, out, "Usage: dedupsim "+cmd)
	}
	_, out, _ := call(t, "help")
	require.Contains(t, out, "scrub")
}

func TestReplayRefusesBadEndpointFlagsBeforeAnythingRuns(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--workers", "100000000"},
			"dedupsim replay: -workers must be from 1 to 256 (0 means the default, 4), " +
				"not 100000000"},
		{[]string{"--workers", "-3"}, "-workers must be from 1 to 256"},
		{[]string{"--wait", "-1s"}, "dedupsim replay: -wait must not be negative, not -1s"},
		{[]string{"--speed", "NaN"}, "-speed must be positive and finite, not NaN"},
		{[]string{"--speed", "Inf"}, "-speed must be positive and finite, not +Inf"},
		{[]string{"--speed", "-1"}, "-speed must be positive and finite, not -1"},
		{[]string{"--strategy", "bogus"}, `dedupsim replay: -strategy: unknown strategy ` +
			`"bogus" (known: advisory, db-unique, legacy,`},
		{[]string{"--pause", "-1s"}, "-pause must not be negative"},
	} {
		args := append(append([]string{"replay", "--app-secret", burstSecret}, c.args...),
			burstFile)
		code, out, errOut := call(t, args...)
		require.Equal(t, ExitBadInput, code, "%v: %s", c.args, errOut)
		require.Empty(t, out, "%v: nothing ran", c.args)
		require.Contains(t, errOut, c.want)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %s", errOut)
	}
}

func TestReplayWithWorkers0RunsTheDefaultAndSaysHowMany(t *testing.T) {
	code, out, errOut := call(t, "replay", "--app-secret", burstSecret, "--workers", "0",
		burstFile)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "(strategy db-unique, 4 workers, speed 1)")
	_, help, _ := call(t, "help", "replay")
	require.Contains(t, help, "0 means the default, 4")
}

func TestReplayRefusesAnInboxListThatRoutesNoneOfTheCapture(t *testing.T) {
	code, out, errOut := call(t, "replay", "--app-secret", burstSecret,
		"--inbox", "1,2", burstFile)
	require.Equal(t, ExitBadInput, code, errOut)
	require.Empty(t, out, "nothing ran")
	require.Contains(t, errOut, "dedupsim replay: -inbox: no body of the capture is "+
		"for 1, 2, so no message would be routed and the replay would check nothing; "+
		"its bodies name phone number ids 200000000000001")
}

func TestServeRefusesAnAddressWithoutAUsablePortAndBadWorkerFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "127.0.0.1:99999"}, `dedupsim serve: -addr: port "99999" ` +
			`of 127.0.0.1:99999 must be a number from 0 (a free port) to 65535`},
		{[]string{"--addr", "127.0.0.1:-1"}, `-addr: port "-1"`},
		{[]string{"--addr", "127.0.0.1:http"}, `-addr: port "http"`},
		{[]string{"--addr", "127.0.0.1"}, `-addr: "127.0.0.1" is not HOST:PORT`},
		{[]string{"--addr", "0.0.0.0:8080"}, "-addr: address \"0.0.0.0:8080\": not a " +
			"loopback address"},
		{[]string{"--workers", "-3"}, "dedupsim serve: -workers must be from 1 to 256"},
		{[]string{"--strategy", "bogus"}, `dedupsim serve: -strategy: unknown strategy`},
		{[]string{"--drain", "-1s"}, "-drain must not be negative"},
	} {
		args := append([]string{"serve", "--app-secret", "s", "--inbox", "1"}, c.args...)
		code, out, errOut := call(t, args...)
		require.Equal(t, ExitBadInput, code, "%v: %s", c.args, errOut)
		require.Empty(t, out, "%v: nothing ran", c.args)
		require.Contains(t, errOut, c.want)
	}
}
