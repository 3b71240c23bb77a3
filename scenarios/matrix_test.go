package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMatchesHoldsObservedCodesToExpectedOnes(t *testing.T) {
	for _, c := range []struct {
		expected, observed string
		match              bool
	}{
		{"ok", "ok", true},
		{"ok", "C", false},
		{"DHc", "D2H2", true},
		{"DHc", "D2H2C", true},
		{"DHc", "D2", false},
		{"DHc", "D2H2X", false},
		{"dhxc", "ok", true},
		{"dhxc", "D2H2XC", true},
		{"-", "-", true},
		{"-", "ok", false},
		{"ok", "-", false},
		{"obs", "D2H2C", true},
		{"obs", "unknown", false},
		{"ok", "unknown", false},
	} {
		require.Equal(t, c.match, Matches(c.expected, c.observed),
			"expected %q, observed %q", c.expected, c.observed)
	}
}

func TestParseExpectedNamesTheLineOfAShortRow(t *testing.T) {
	_, err := ParseExpected([]byte("config c01 c02\nnone ok\n"))
	require.ErrorContains(t, err, "matrix.expected:2: 1 cells for 2 scenarios")
}
