package meta

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestATimestampOutsideTheYears0To9999IsInvalid(t *testing.T) {
	for _, ts := range []string{"253402300800", "-62167219201", "999999999999"} {
		body := `{"object":"whatsapp_business_account","entry":[{"changes":[` +
			`{"value":{"messages":[{"id":"m","timestamp":"` + ts + `"}]}}]}]}`
		_, err := Parse([]byte(body))
		require.ErrorIs(t, err, ErrInvalid, ts)
	}
}

func TestTheFirstAndLastSecondsOfTheRangeParseAndEncode(t *testing.T) {
	for _, sec := range []int64{minUnix, maxUnix} {
		got, err := parseUnix(strconv.FormatInt(sec, 10))
		require.NoError(t, err)
		_, err = json.Marshal(got)
		require.NoError(t, err, "year %d", got.Year())
	}
}
