package queue

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func BenchmarkQueue(b *testing.B) {
	b.Run("EnqueueTakeComplete", func(b *testing.B) {
		q := newQueue(b, Config{})
		payload := []byte(`{"message":"hello"}`)
		for b.Loop() {
			_, err := q.Enqueue(b.Context(), "bench", payload, time.Time{})
			require.NoError(b, err)
			l, err := q.Take(b.Context())
			require.NoError(b, err)
			require.NotNil(b, l)
			require.NoError(b, l.Complete(b.Context()))
		}
	})
}
