package check

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/sim/history"
)

func done(w string, n checkpoint.Name, detail, result string) history.Event {
	return history.Event{Worker: w, Checkpoint: n, Phase: history.Done,
		Detail: detail, Result: result}
}

func enter(w string, n checkpoint.Name, detail string) history.Event {
	return history.Event{Worker: w, Checkpoint: n, Phase: history.Enter, Detail: detail}
}

// step is a step's enter followed at once by its outcome.
func step(w string, n checkpoint.Name, detail, result string) []history.Event {
	return []history.Event{enter(w, n, detail), done(w, n, detail, result)}
}

func steps(s ...[]history.Event) []history.Event {
	var out []history.Event
	for _, x := range s {
		out = append(out, x...)
	}
	return out
}

const lock = "CONVERSATION_LOCK::1::555"

func TestAPlainDeleteByAWorkerThatNeverHeldTheLockLetsAThirdIn(t *testing.T) {
	fs := Exclusive(steps(
		step("W1", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "OK"),
		step("W2", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "nil"),
		step("W2", checkpoint.LockRelease, "DEL "+lock, "(integer) 1"),
		step("W3", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "OK"),
		step("W1", checkpoint.LockRelease, "DEL "+lock, "(integer) 1"),
	))
	require.Equal(t, []Finding{
		{ExclusiveClaim, "W2 deleted " + lock + ", held by W1"},
		{ExclusiveClaim, "W3 took " + lock + " while W1 held it"},
	}, fs)
}

func TestAnOwnerCheckedReleaseKeepsTheLockExclusive(t *testing.T) {
	fs := Exclusive(steps(
		step("W1", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "OK"),
		step("W2", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "nil"),
		step("W2", checkpoint.LockRelease, "compare-and-delete "+lock, "(integer) 0"),
		step("W3", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "nil"),
		step("W1", checkpoint.LockRelease, "compare-and-delete "+lock, "(integer) 1"),
		step("W3", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "OK"),
	))
	require.Empty(t, fs)
}

func TestTwoUnconditionalSetsAreTwoHolders(t *testing.T) {
	fs := Exclusive([]history.Event{
		done("W1", checkpoint.ClaimMark, "SETEX k 86400", "OK"),
		done("W2", checkpoint.ClaimMark, "SETEX k 86400", "OK"),
	})
	require.Equal(t, []Finding{{ExclusiveClaim, "W2 took k while W1 held it"}}, fs)
}

func TestATakeRecordedBeforeTheOverlappingReleaseIsNoViolation(t *testing.T) {
	// W1's delete began before W3's take finished; their outcomes were
	// recorded in the other order.
	fs := Exclusive([]history.Event{
		done("W1", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "OK"),
		enter("W1", checkpoint.LockRelease, "compare-and-delete "+lock),
		enter("W3", checkpoint.LockAcquire, "SET "+lock+" NX EX 30"),
		done("W3", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "OK"),
		done("W1", checkpoint.LockRelease, "compare-and-delete "+lock, "(integer) 1"),
	})
	require.Empty(t, fs)
}
