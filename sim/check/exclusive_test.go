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

const lock = "CONVERSATION_LOCK::1::555"

func TestAPlainDeleteByAWorkerThatNeverHeldTheLockLetsAThirdIn(t *testing.T) {
	fs := Exclusive([]history.Event{
		done("W1", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "OK"),
		done("W2", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "nil"),
		done("W2", checkpoint.LockRelease, "DEL "+lock, "(integer) 1"),
		done("W3", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "OK"),
		done("W1", checkpoint.LockRelease, "DEL "+lock, "(integer) 1"),
	})
	require.Equal(t, []Finding{
		{ExclusiveClaim, "W2 deleted " + lock + ", held by W1"},
		{ExclusiveClaim, "W3 took " + lock + " while W1 held it"},
	}, fs)
}

func TestAnOwnerCheckedReleaseKeepsTheLockExclusive(t *testing.T) {
	fs := Exclusive([]history.Event{
		done("W1", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "OK"),
		done("W2", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "nil"),
		done("W2", checkpoint.LockRelease, "compare-and-delete "+lock, "(integer) 0"),
		done("W3", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "nil"),
		done("W1", checkpoint.LockRelease, "compare-and-delete "+lock, "(integer) 1"),
		done("W3", checkpoint.LockAcquire, "SET "+lock+" NX EX 30", "OK"),
	})
	require.Empty(t, fs)
}

func TestTwoUnconditionalSetsAreTwoHolders(t *testing.T) {
	fs := Exclusive([]history.Event{
		done("W1", checkpoint.ClaimMark, "SETEX k 86400", "OK"),
		done("W2", checkpoint.ClaimMark, "SETEX k 86400", "OK"),
	})
	require.Equal(t, []Finding{{ExclusiveClaim, "W2 took k while W1 held it"}}, fs)
}
