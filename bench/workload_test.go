package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/store"
)

func TestTheWorkloadCopiesTheShareOfDeliveriesAskedFor(t *testing.T) {
	w, err := newWorkload(Config{Deliveries: 200}.withDefaults())
	require.NoError(t, err)
	require.Equal(t, 200, w.deliveries())
	require.Len(t, w.messages, 180)
	require.Len(t, w.gaps, 20)
	for i, gap := range w.gaps {
		require.Less(t, i, 180)
		require.GreaterOrEqual(t, gap, time.Duration(0))
		require.LessOrEqual(t, gap, DefaultMaxGap)
	}
}

func TestTheSameSeedDrawsTheSameWorkload(t *testing.T) {
	a, err := newWorkload(Config{Deliveries: 50, Seed: 9}.withDefaults())
	require.NoError(t, err)
	b, err := newWorkload(Config{Deliveries: 50, Seed: 9}.withDefaults())
	require.NoError(t, err)
	require.Equal(t, a.gaps, b.gaps)
	c, err := newWorkload(Config{Deliveries: 50, Seed: 10}.withDefaults())
	require.NoError(t, err)
	require.NotEqual(t, a.gaps, c.gaps)
}

func TestAWorkloadWithoutCopiesHasOnlyOriginals(t *testing.T) {
	w, err := newWorkload(Config{Deliveries: 30, DuplicateRate: -1}.withDefaults())
	require.NoError(t, err)
	require.Len(t, w.messages, 30)
	require.Empty(t, w.gaps)
}

func TestTheFeederHandsOutEveryOriginalAndEveryCopyAfterItsGap(t *testing.T) {
	w, err := newWorkload(Config{Deliveries: 40, DuplicateRate: 0.5,
		MaxGap: 5 * time.Millisecond}.withDefaults())
	require.NoError(t, err)
	f := newFeeder(w, store.Inbox{ID: 1}, time.Time{})
	go f.run(t.Context())

	gap := map[string]time.Duration{}
	for i, d := range w.gaps {
		gap[w.messages[i].ID] = d
	}
	seen := map[string]int{}
	first := map[string]time.Time{}
	for job := range f.jobs {
		id := job.Message.ID
		seen[id]++
		if seen[id] == 1 {
			first[id] = time.Now()
			continue
		}
		// Both sides stamp the original's hand-out a moment apart.
		require.GreaterOrEqual(t, time.Since(first[id]), gap[id]-time.Millisecond)
	}
	require.Len(t, seen, 20)
	copies := 0
	for _, n := range seen {
		copies += n - 1
	}
	require.Equal(t, 20, copies)
	require.Equal(t, 20, f.fed)
}

func TestTheFeederStopsFeedingOriginalsAtItsDeadline(t *testing.T) {
	w, err := newWorkload(Config{Deliveries: 100, DuplicateRate: -1}.withDefaults())
	require.NoError(t, err)
	f := newFeeder(w, store.Inbox{ID: 1}, time.Now().Add(-time.Second))
	go f.run(t.Context())
	n := 0
	for range f.jobs {
		n++
	}
	require.Zero(t, n)
	require.Zero(t, f.fed)
}

func TestTheFeederStopsWhenItsContextEnds(t *testing.T) {
	w, err := newWorkload(Config{Deliveries: 10}.withDefaults())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	f := newFeeder(w, store.Inbox{ID: 1}, time.Time{})
	done := make(chan struct{})
	go func() {
		f.run(ctx)
		close(done)
	}()
	<-f.jobs
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the feeder did not stop")
	}
}
