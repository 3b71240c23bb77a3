package meta

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParse starts from every body under testdata. Parse must not panic;
// a body it rejects names one of its sentinels, and a body it accepts
// gives every message an id and numbered parts.
func FuzzParse(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, paths)
	for _, p := range paths {
		body, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(body)
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := Parse(body)
		if err != nil {
			require.Nil(t, d)
			require.True(t, errors.Is(err, ErrMalformed) ||
				errors.Is(err, ErrUnexpectedObject) ||
				errors.Is(err, ErrInvalid), "unclassified error: %v", err)
			return
		}
		for _, m := range d.Messages {
			require.NotEmpty(t, m.ID)
			require.NotEmpty(t, m.Parts, "message %q", m.ID)
			for i, p := range m.Parts {
				require.Equal(t, i, p.Index, "message %q", m.ID)
			}
		}
	})
}
