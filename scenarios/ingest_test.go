package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIngestDefaultsToDirect(t *testing.T) {
	sc, err := LoadFile(write(t, good))
	require.NoError(t, err)
	require.Equal(t, Ingest{Mode: IngestDirect}, sc.Ingest)
	require.False(t, sc.Ingest.HTTP())
}

func TestIngestTakesAModeAloneOrAMapping(t *testing.T) {
	sc, err := LoadFile(write(t, good+"ingest: http\n"))
	require.NoError(t, err)
	require.Equal(t, Ingest{Mode: IngestHTTP}, sc.Ingest)

	sc, err = LoadFile(write(t, good+"ingest: {mode: http, ack_delay_ms: 1500, "+
		"provider_timeout_ms: 1000, redeliver: 2}\n"))
	require.NoError(t, err)
	require.True(t, sc.Ingest.HTTP())
	require.Equal(t, 2, sc.Ingest.Redeliver)
	require.Equal(t, "1.5s", sc.Ingest.AckDelay().String())
	require.Equal(t, "1s", sc.Ingest.ProviderTimeout().String())
	require.Len(t, sc.Arrivals, 2, "redeliveries are not arrivals")
}

func TestBadIngestFieldsAreErrorsWithTheirField(t *testing.T) {
	for text, want := range map[string]struct{ field, msg string }{
		"ingest: smtp\n": {"ingest.mode", `unknown mode "smtp"`},
		"ingest: {mode: http, redeliver: 2}\n": {"ingest.redeliver",
			"needs provider_timeout_ms"},
		"ingest: {mode: direct, ack_delay_ms: 10}\n": {"ingest", "need mode: http"},
		"ingest: {ack_delay_ms: 10}\n":               {"ingest", "need mode: http"},
		"ingest: {mode: http, redeliver: 11, provider_timeout_ms: 1}\n": {
			"ingest.redeliver", "from 0 to 10"},
		"ingest: {mode: http, ack_delay_ms: -1}\n": {"ingest", "negative"},
	} {
		t.Run(strings.TrimSpace(text), func(t *testing.T) {
			e := loadErr(t, good+text)
			require.Equal(t, want.field, e.Field)
			require.Contains(t, e.Msg, want.msg)
			require.Positive(t, e.Line)
		})
	}
}

func TestAMisspeltIngestFieldIsAnError(t *testing.T) {
	e := loadErr(t, good+"ingest: {mode: http, redelivr: 2}\n")
	require.Contains(t, e.Msg, `unknown field "redelivr"`)
	require.Positive(t, e.Line)
}
