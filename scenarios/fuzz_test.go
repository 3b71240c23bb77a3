package scenarios

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzScenario parses arbitrary scenario files, starting from every
// shipped scenario and the loader tests' scenario. Parse must never panic,
// and every error it returns must be an *Error.
func FuzzScenario(f *testing.F) {
	names, err := fs.Glob(shipped, "*.yaml")
	require.NoError(f, err)
	for _, name := range names {
		data, err := fs.ReadFile(shipped, name)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(good))
	f.Add([]byte(good + "ingest: {mode: http, ack_delay_ms: 5, " +
		"provider_timeout_ms: 1, redeliver: 1}\n"))

	payloads := fuzzPayloads(f)
	read := func(p string) ([]byte, error) {
		if b, ok := payloads[path.Clean(p)]; ok {
			return b, nil
		}
		return nil, os.ErrNotExist
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data, read)
		if err == nil {
			require.NotNil(t, sc)
			return
		}
		require.Nil(t, sc)
		var e *Error
		require.True(t, errors.As(err, &e), "%T is not an *Error: %v", err, err)
	})
}

// fuzzPayloads maps every payload name a scenario may use to its bytes:
// the shipped payloads and the test data.
func fuzzPayloads(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	shippedPayloads, err := fs.Glob(shipped, "payloads/*.json")
	require.NoError(tb, err)
	for _, p := range shippedPayloads {
		out[p], err = fs.ReadFile(shipped, p)
		require.NoError(tb, err)
	}
	local, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(tb, err)
	for _, p := range local {
		out[filepath.Base(p)], err = os.ReadFile(p)
		require.NoError(tb, err)
	}
	return out
}
