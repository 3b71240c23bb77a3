package bench

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTheRecordingHookIsMeasuredInCPUTimeWithoutItsSetUp(t *testing.T) {
	made := 0
	passCheckpoints(2*hookChunk+1, true, func() { made++ }, func() {})
	require.Equal(t, 3, made, "a fresh controller every chunk")
	require.Positive(t, cpuPerCheckpoint(0))
}
