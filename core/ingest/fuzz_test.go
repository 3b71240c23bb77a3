package ingest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/ingest"
	"github.com/dedupsim/dedupsim/core/meta"
	"github.com/dedupsim/dedupsim/core/store"
)

// FuzzIngest posts arbitrary bodies, signed or not, to the handler. It must
// never panic nor answer 5xx; an unsigned body is 401, a signed body that
// parses is 200, and a refused one adds no job.
func FuzzIngest(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(f, err)
	for _, p := range paths {
		body, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(body, true)
	}
	f.Add([]byte(`{"object":"whatsapp_business_account"}`), true)
	f.Add([]byte(`{}`), false)

	e := newEnv(f, ingest.Config{})
	_, err = store.CreateOutbound(f.Context(), e.run.DB, e.inbox.ID,
		"wamid.HBgLMTU1NTAwMDAwMDIVAgARGBI1RTU3MDAwMDAwMDAwMDAwQjEA")
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, body []byte, sign bool) {
		before := e.h.Stats().Jobs
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		if sign {
			req.Header.Set(meta.SignatureHeader, meta.Sign(secret, body))
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)

		code := rec.Code
		require.Less(t, code, 500, "answer %d: %s", code, rec.Body)
		_, parseErr := meta.Parse(body)
		switch {
		case !sign:
			require.Equal(t, http.StatusUnauthorized, code)
		case parseErr == nil:
			require.Equal(t, http.StatusOK, code, "%s", rec.Body)
		default:
			require.Equal(t, http.StatusBadRequest, code)
		}
		if code != http.StatusOK {
			require.Equal(t, before, e.h.Stats().Jobs, "a refused body added jobs")
		}
	})
}
