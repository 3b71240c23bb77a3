package clock

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAdvancingMovesTheClockAndTellsTheServers(t *testing.T) {
	var told time.Duration
	c := New(func(_ context.Context, d time.Duration) error { told += d; return nil })
	before := c.Now()
	require.NoError(t, c.Advance(context.Background(), 24*time.Hour))
	require.GreaterOrEqual(t, c.Now().Sub(before), 24*time.Hour)
	require.Equal(t, 24*time.Hour, told)
	require.Equal(t, 24*time.Hour, c.Offset())
}

func TestTheClockNeverGoesBack(t *testing.T) {
	c := New(nil)
	require.NoError(t, c.AdvanceTo(context.Background(), c.Now().Add(-time.Hour)))
	require.Zero(t, c.Offset())
}
